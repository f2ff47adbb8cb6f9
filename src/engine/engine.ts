import type { Env, Trigger } from './env.js';
import type { EngineEvent } from './events.js';
import type { Flow, FlowNode, NodeOf, NodeType } from './flow-schema.js';
import type { EngineInput } from './inputs.js';
import { enterAsk, resumeAsk } from './nodes/ask.js';
import { branch } from './nodes/branch.js';
import { handoff, requestHandoff } from './nodes/handoff.js';
import { call, end, goto } from './nodes/jump.js';
import { record } from './nodes/record.js';
import { referral, task } from './nodes/referral.js';
import { say } from './nodes/say.js';
import { set } from './nodes/set.js';
import { wait } from './nodes/wait.js';
import { SESSION_SCHEMA, type Session } from './session.js';
import { currentFlow, emit, findNode, flush, newSprint, type Sprint, type Step } from './sprint.js';

export interface SprintResult {
  session: Session;
  events: EngineEvent[];
}

type Handler<T extends NodeType> = (node: NodeOf<T>, sprint: Sprint) => Step;

const handlers = {
  say,
  ask: enterAsk,
  branch,
  set,
  record,
  wait,
  handoff,
  goto,
  call,
  end,
  referral,
  task,
} satisfies { [T in NodeType]: Handler<T> };

function visit(node: FlowNode, sprint: Sprint): Step {
  return (handlers[node.type] as Handler<typeof node.type>)(node, sprint);
}

function finish(sprint: Sprint, status: 'completed' | 'interrupted' | 'expired' | 'failed'): void {
  const { session } = sprint;
  emit(sprint, { type: 'flow_ended', flow_id: session.flow_id, status });
  session.status = 'ended';
  session.stack = [];
  delete session.wait;
  session.ended = { status, at: sprint.at };
}

/** Ends the session and hands the participant to a human: the flow cannot go on safely. */
function fail(sprint: Sprint, code: string, detail: string): void {
  flush(sprint);
  emit(sprint, { type: 'failure', code, detail });
  emit(sprint, {
    type: 'handoff_requested',
    reason: code,
    urgency: 'normal',
    flow_id: sprint.session.flow_id,
    node: sprint.session.node,
  });
  finish(sprint, 'failed');
}

function enterFlow(sprint: Sprint, step: Extract<Step, { kind: 'enter' }>): string | undefined {
  const flow = sprint.env.flows[step.flow];
  if (!flow) {
    fail(sprint, 'flow_missing', `no flow ${step.flow}`);
    return undefined;
  }
  const { session } = sprint;
  if (step.push) session.stack.push(step.push);
  session.flow_id = flow.id;
  session.flow_rev = flow.rev;
  emit(sprint, { type: 'flow_entered', flow_id: flow.id, flow_rev: flow.rev });
  return step.node ?? flow.start ?? flow.nodes[0]?.id;
}

/** A flow ran out of nodes: return to the caller if there is one, else the session ends. */
function returnOrEnd(
  sprint: Sprint,
  status: 'completed' | 'interrupted' | 'expired',
): string | undefined {
  const { session } = sprint;
  const frame = status === 'completed' ? session.stack.pop() : undefined;
  if (!frame) {
    finish(sprint, status);
    return undefined;
  }
  const flow = sprint.env.flows[frame.flow_id];
  if (
    !flow ||
    (flow.rev !== frame.flow_rev && frame.next !== undefined && !findNode(flow, frame.next))
  ) {
    fail(sprint, 'flow_changed', `cannot return to ${frame.flow_id}`);
    return undefined;
  }
  emit(sprint, { type: 'flow_ended', flow_id: session.flow_id, status: 'completed' });
  session.flow_id = flow.id;
  session.flow_rev = flow.rev;
  return frame.next ?? returnOrEnd(sprint, 'completed');
}

/** Follows steps from `from` until the session waits or ends. */
function run(sprint: Sprint, first: Step): void {
  const limit = sprint.env.stepLimit ?? 100;
  let step = first;
  for (;;) {
    let nodeId: string | undefined;
    switch (step.kind) {
      case 'wait':
        flush(sprint);
        return;
      case 'fail':
        fail(sprint, step.code, step.detail);
        return;
      case 'end':
        nodeId = returnOrEnd(sprint, step.status);
        break;
      case 'enter':
        nodeId = enterFlow(sprint, step);
        break;
      case 'next':
        nodeId = step.node ?? returnOrEnd(sprint, 'completed');
        break;
    }
    if (nodeId === undefined || sprint.session.status === 'ended') {
      flush(sprint);
      return;
    }
    if (++sprint.steps > limit) {
      fail(sprint, 'step_limit', `more than ${limit} steps without waiting`);
      return;
    }
    const node = findNode(currentFlow(sprint), nodeId);
    if (!node) {
      fail(sprint, 'node_missing', `no node ${nodeId} in ${sprint.session.flow_id}`);
      return;
    }
    sprint.session.node = node.id;
    sprint.session.status = 'waiting';
    delete sprint.session.wait;
    step = visit(node, sprint);
  }
}

function blankSession(flow: Flow, trigger: Trigger, env: Env): Session {
  const at = env.now.toUTC().toISO() ?? '';
  const { participant, ...rest } = trigger.context;
  const preferred =
    typeof participant.preferred_lang === 'string' ? participant.preferred_lang : undefined;
  const lang =
    [trigger.lang, preferred].find((l) => l !== undefined && env.locales[l]) ?? env.defaultLang;
  return {
    schema: SESSION_SCHEMA,
    id: env.newId(),
    flow_id: flow.id,
    flow_rev: flow.rev,
    lang,
    status: 'waiting',
    node: flow.start ?? flow.nodes[0]?.id ?? '',
    stack: [],
    answers: {},
    context: structuredClone({
      ...rest,
      participant: {
        ...participant,
        tags: participant.tags ?? [],
        fields: participant.fields ?? {},
      },
    }),
    started_at: at,
    updated_at: at,
  };
}

/** Starts `flow` for a participant. Pure: same inputs, same session and events. */
export function start(flow: Flow, trigger: Trigger, env: Env): SprintResult {
  const session = blankSession(flow, trigger, env);
  const sprint = newSprint(session, env);
  emit(sprint, { type: 'flow_entered', flow_id: flow.id, flow_rev: flow.rev });
  run(sprint, { kind: 'next', node: session.node });
  return { session: sprint.session, events: sprint.events };
}

function ignored(sprint: Sprint, code: string, detail: string): SprintResult {
  emit(sprint, { type: 'error', code, detail });
  return { session: sprint.session, events: sprint.events };
}

/** The node a waiting session is at, if its flow still has it (the flow may have changed). */
function waitingNode(sprint: Sprint): FlowNode | undefined {
  const { session } = sprint;
  const flow = currentFlow(sprint);
  const node = flow ? findNode(flow, session.node) : undefined;
  if (flow && node && flow.rev !== session.flow_rev) session.flow_rev = flow.rev;
  return node;
}

function onMsg(sprint: Sprint, text: string): SprintResult | Step {
  const { session } = sprint;
  if (session.wait?.kind !== 'reply') {
    return ignored(
      sprint,
      'input_ignored',
      `message while ${session.status === 'handed_off' ? 'handed off' : 'not waiting for a reply'}`,
    );
  }
  const node = waitingNode(sprint);
  if (node?.type !== 'ask')
    return {
      kind: 'fail',
      code: 'flow_changed',
      detail: `${session.node} is no longer a question`,
    };
  return resumeAsk(node, sprint, text);
}

function onTimer(
  sprint: Sprint,
  input: Extract<EngineInput, { type: 'timeout' | 'expired' }>,
): SprintResult | Step | null {
  const { session } = sprint;
  // A timer for a wait the session has left is stale: nothing happens (mailroom's rule).
  if (session.wait?.id !== input.wait_id || session.wait.kind === 'handoff') return null;
  if (input.type === 'expired') return { kind: 'end', status: 'expired' };
  const node = waitingNode(sprint);
  if (!node)
    return { kind: 'fail', code: 'flow_changed', detail: `${session.node} no longer exists` };
  if (node.type === 'wait') return { kind: 'next', node: node.next };
  if (node.type === 'ask' && node.timeout) return { kind: 'next', node: node.timeout.then };
  return ignored(sprint, 'input_ignored', 'timeout for a node without one');
}

function onHandoffClosed(
  sprint: Sprint,
  input: Extract<EngineInput, { type: 'handoff_closed' }>,
): SprintResult | Step {
  const { session } = sprint;
  if (session.status !== 'handed_off') return ignored(sprint, 'input_ignored', 'not handed off');
  if (!input.resume) return { kind: 'end', status: 'interrupted' };
  const node = waitingNode(sprint);
  // Back to the bot: a hand-off node's resume point, or the question it gave up on.
  const fallback =
    node?.type === 'handoff' ? node.resume : node?.type === 'ask' ? node.id : undefined;
  const target = input.node ?? fallback;
  if (target === undefined) return { kind: 'end', status: 'completed' };
  return { kind: 'next', node: target };
}

/** Resumes a session with an input. Never throws on inputs: odd ones are reported as events. */
export function resume(session: Session, input: EngineInput, env: Env): SprintResult {
  const sprint = newSprint(structuredClone(session), env);
  sprint.session.updated_at = sprint.at;
  if (session.status === 'ended')
    return ignored(sprint, 'session_ended', `${input.type} after the session ended`);
  if (!env.flows[session.flow_id]) {
    fail(sprint, 'flow_missing', `no flow ${session.flow_id}`);
    return { session: sprint.session, events: sprint.events };
  }
  const outcome =
    input.type === 'msg'
      ? onMsg(sprint, input.text)
      : input.type === 'handoff_closed'
        ? onHandoffClosed(sprint, input)
        : onTimer(sprint, input);
  if (outcome === null) return { session, events: [] };
  if ('kind' in outcome) {
    run(sprint, outcome);
    return { session: sprint.session, events: sprint.events };
  }
  return outcome;
}

export { requestHandoff };
