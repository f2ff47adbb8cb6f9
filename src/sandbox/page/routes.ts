/**
 * The sandbox page and its JSON API under /sandbox. Registered only in sandbox mode (see
 * runtime.ts); in production mode none of these routes exist. Bodies are zod-checked (400
 * with field errors); phone numbers travel in bodies or query strings, which the request
 * log never records.
 */
import type { FastifyInstance, FastifyReply } from 'fastify';
import { DateTime } from 'luxon';
import type { z } from 'zod';
import { fieldErrors } from '../../domain/booking/fields.js';
import type { App } from '../../http/app.js';
import type { Queues } from '../../scheduler/queues.js';
import type { Db } from '../../store/db.js';
import { type SlackFake, staticSelect, textInput } from '../slack/index.js';
import type { TwilioFake } from '../twilio/index.js';
import { type AssetName, type Assets, isAsset } from './assets.js';
import type { SandboxClock } from './clock.js';
import { ClockBackwards } from './clock.js';
import { fireDue } from './fire-due.js';
import {
  type ClockBody,
  clickBody,
  clockBody,
  commandBody,
  homeBody,
  phoneQuery,
  replyBody,
  smsBody,
  type ViewValues,
  viewCloseBody,
  viewSelectBody,
  viewSubmitBody,
} from './schemas.js';
import { DEMO_PHONES } from './seed.js';
import { slackPane } from './slack-view.js';

export interface SandboxRouteDeps {
  db: Db;
  queues: Queues;
  clock: SandboxClock;
  tz: string;
  /** Null when TWILIO_API_URL points at a local Twilio running elsewhere. */
  twilioFake: TwilioFake | null;
  /** Linkline's own number: what participants text. */
  ourNumber: string;
  slackFake: SlackFake | null;
  assets: Assets;
}

class BadRequest extends Error {
  constructor(readonly errors: { path: string; message: string }[]) {
    super('invalid request');
  }
}

function parse<T extends z.ZodType>(schema: T, value: unknown): z.output<T> {
  const r = schema.safeParse(value ?? {});
  if (!r.success) throw new BadRequest(fieldErrors(r.error));
  return r.data;
}

function clockJson(clock: SandboxClock, tz: string) {
  const now = DateTime.fromJSDate(clock.now()).setZone(tz);
  return {
    now: now.toUTC().toISO(),
    local: now.toFormat("yyyy-LL-dd'T'HH:mm"),
    label: now.toFormat('cccc d LLLL, HH:mm'),
    tz,
    offsetMs: clock.offsetMs(),
  };
}

/** Moves the clock as asked: `by` a step exactly, or `to` a local wall time. */
function move(body: ClockBody, clock: SandboxClock, tz: string): void {
  if ('to' in body) {
    const at = DateTime.fromISO(body.to, { zone: tz });
    if (!at.isValid) throw new BadRequest([{ path: 'to', message: 'not a real date and time' }]);
    clock.moveTo(at.toJSDate());
    return;
  }
  const amount = Number(body.by.slice(0, -1));
  const unit = { m: 60_000, h: 3_600_000, d: 86_400_000 }[body.by.at(-1) as 'm' | 'h' | 'd'];
  clock.advance(amount * unit);
}

function need<T>(value: T | null, what: string): T {
  if (value === null) throw new Unavailable(what);
  return value;
}

class Unavailable extends Error {}

function registerPage(app: FastifyInstance, deps: SandboxRouteDeps): void {
  const send = (reply: FastifyReply, name: AssetName) =>
    reply
      .header('content-type', deps.assets[name].type)
      .header('cache-control', 'no-store')
      .send(deps.assets[name].body);
  app.get('/', async (_request, reply) => send(reply, 'index.html'));
  app.get('/sandbox/assets/:name', async (request, reply) => {
    const { name } = request.params as { name: string };
    if (!isAsset(name)) return reply.code(404).send({ error: 'not_found' });
    return send(reply, name);
  });
}

function registerSms(app: FastifyInstance, deps: SandboxRouteDeps): void {
  app.get('/sandbox/sms', async (request) => {
    const { phone } = parse(phoneQuery, request.query);
    const fake = need(deps.twilioFake, 'twilio');
    const messages = fake
      .allMessages()
      .filter((m) => m.from === phone || m.to === phone)
      .map((m) => ({
        sid: m.sid,
        direction: m.direction === 'inbound' ? 'in' : 'out',
        body: m.body,
        status: m.status,
        errorCode: m.errorCode,
        at: m.dateCreated.toISOString(),
      }));
    return { phone, messages };
  });
  app.post('/sandbox/sms', async (request) => {
    const { from, body } = parse(smsBody, request.body);
    const fake = need(deps.twilioFake, 'twilio');
    const delivery = await fake.sendInbound({ from, to: deps.ourNumber, body });
    return { sid: delivery.messageSid, webhookStatus: delivery.status };
  });
}

function registerSlack(app: FastifyInstance, deps: SandboxRouteDeps): void {
  const names = new Map<string, string>();
  app.get('/sandbox/slack', async () => slackPane(need(deps.slackFake, 'slack'), names));
  app.post('/sandbox/slack/click', async (request) => {
    const input = parse(clickBody, request.body);
    const fake = need(deps.slackFake, 'slack');
    if (!fake.message(input.channel, input.ts))
      throw new BadRequest([{ path: 'ts', message: 'no such message' }]);
    const delivery = await fake.clickButton({
      user: input.user,
      channel: input.channel,
      ts: input.ts,
      actionId: input.actionId,
      ...(input.value === undefined ? {} : { value: input.value }),
    });
    return { appStatus: delivery.status };
  });
  app.post('/sandbox/slack/reply', async (request) => {
    const input = parse(replyBody, request.body);
    const fake = need(deps.slackFake, 'slack');
    if (!fake.message(input.channel, input.threadTs))
      throw new BadRequest([{ path: 'threadTs', message: 'no such thread' }]);
    const post = await fake.userReplies(input.channel, input.threadTs, input.user, input.text);
    return { ts: post.message.ts, appStatus: post.deliveries[0]?.status ?? null };
  });
  registerSlackTools(app, deps);
}

/** The page's form values as Slack's `view.state.values`. */
function stateValues(values: ViewValues) {
  return Object.fromEntries(
    Object.entries(values).map(([block, actions]) => [
      block,
      Object.fromEntries(
        Object.entries(actions).map(([action, v]) => [
          action,
          'text' in v ? textInput(v.text === '' ? null : v.text) : staticSelect(v.option),
        ]),
      ),
    ]),
  );
}

/** `/linkline` from the composer, the App Home tab, and modals: what the fake sends Linkline. */
function registerSlackTools(app: FastifyInstance, deps: SandboxRouteDeps): void {
  app.post('/sandbox/slack/command', async (request) => {
    const input = parse(commandBody, request.body);
    const fake = need(deps.slackFake, 'slack');
    const [command = '/linkline', ...rest] = input.text.split(/\s+/);
    const d = await fake.sendCommand({
      command,
      text: rest.join(' '),
      user_id: input.user,
      channel_id: input.channel ?? fake.dmWith(input.user),
    });
    return { appStatus: d.status };
  });
  app.post('/sandbox/slack/home', async (request) => {
    const { user } = parse(homeBody, request.body);
    const d = await need(deps.slackFake, 'slack').openAppHome(user);
    return { appStatus: d.status };
  });
  const openModal = (fake: SlackFake, user: string, viewId: string) => {
    const v = fake.views().find((x) => x.id === viewId);
    if (v?.type !== 'modal' || v.status !== 'open' || v.user !== user)
      throw new BadRequest([{ path: 'viewId', message: 'no such open modal' }]);
    return v;
  };
  app.post('/sandbox/slack/view/submit', async (request) => {
    const input = parse(viewSubmitBody, request.body);
    const fake = need(deps.slackFake, 'slack');
    openModal(fake, input.user, input.viewId);
    const values = stateValues(input.values);
    const d = await fake.sendViewSubmission({ viewId: input.viewId, user: input.user, values });
    return { outcome: d.outcome, errors: d.errors };
  });
  app.post('/sandbox/slack/view/select', async (request) => {
    const input = parse(viewSelectBody, request.body);
    const fake = need(deps.slackFake, 'slack');
    openModal(fake, input.user, input.viewId);
    const d = await fake.sendAction({
      user: input.user,
      viewId: input.viewId,
      actions: [{ action_id: input.actionId, selected_option: { value: input.value } }],
      ...(input.values ? { values: stateValues(input.values) } : {}),
    });
    return { appStatus: d.status };
  });
  app.post('/sandbox/slack/view/close', async (request) => {
    const input = parse(viewCloseBody, request.body);
    const fake = need(deps.slackFake, 'slack');
    openModal(fake, input.user, input.viewId);
    await fake.closeView(input.viewId, input.user);
    return { closed: true };
  });
}

function registerClock(app: FastifyInstance, deps: SandboxRouteDeps): void {
  app.get('/sandbox/clock', async () => clockJson(deps.clock, deps.tz));
  app.post('/sandbox/clock', async (request, reply) => {
    const body = parse(clockBody, request.body);
    try {
      move(body, deps.clock, deps.tz);
    } catch (err) {
      if (!(err instanceof ClockBackwards)) throw err;
      return reply.code(409).send({ error: 'clock_backwards', message: err.message });
    }
    const fired = await fireDue(deps.db, deps.queues, deps.clock.now());
    return { ...clockJson(deps.clock, deps.tz), due: fired };
  });
}

export function registerSandboxRoutes(app: App, deps: SandboxRouteDeps): void {
  app.register(async (scope) => {
    scope.setErrorHandler((err, _request, reply) => {
      if (err instanceof BadRequest)
        return reply.code(400).send({ error: 'invalid_request', errors: err.errors });
      if (err instanceof Unavailable)
        return reply
          .code(409)
          .send({ error: 'unavailable', message: `no local ${err.message} fake in this process` });
      const status = (err as { statusCode?: number }).statusCode;
      if (status && status < 500)
        return reply
          .code(status)
          .send({ error: 'invalid_request', message: (err as Error).message });
      reply.log.error({ reason: (err as Error).message }, 'sandbox request failed');
      return reply.code(500).send({ error: 'internal' });
    });
    registerPage(scope, deps);
    scope.get('/sandbox/state', async () => ({
      clock: clockJson(deps.clock, deps.tz),
      ourNumber: deps.ourNumber,
      twilio: deps.twilioFake !== null,
      slack: deps.slackFake !== null,
      phones: [
        { phone: DEMO_PHONES.newcomers[0], label: 'New person', role: 'participant' },
        { phone: DEMO_PHONES.ann, label: 'Ann (booked on Art for wellbeing)', role: 'participant' },
        { phone: DEMO_PHONES.lead, label: 'Bev, activity lead (no Slack)', role: 'lead' },
      ],
      spareNumbers: DEMO_PHONES.newcomers.slice(1),
    }));
    registerSms(scope, deps);
    registerSlack(scope, deps);
    registerClock(scope, deps);
  });
}
