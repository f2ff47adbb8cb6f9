import { z } from 'zod';

/**
 * Flow file format, version 1. A flow is a list of nodes; text is referenced by locale key,
 * never inline. Every reference between nodes is by id, checked by the graph validator.
 */

const id = z
  .string()
  .regex(/^[a-z][a-z0-9_]*$/, 'must be snake_case: lowercase letters, digits and _');
const flowId = z
  .string()
  .regex(/^[a-z][a-z0-9_]*$/, 'must be snake_case: lowercase letters, digits and _');
export const durationPattern = /^(\d+)\s*(m|h|d|w)$/;
const duration = z.string().regex(durationPattern, 'must be a duration like 30m, 25h, 3d or 2w');
const messageKey = z
  .string()
  .regex(/^[a-z0-9_]+(\.[a-z0-9_]+)+$/, 'must be a dotted locale key like intake.consent');
const keywordKey = z.string().regex(/^[a-z0-9_]+$/, 'must be a keyword list name');

/** A variable reference, e.g. `participant.first_name`, `answers.name`, `activity.location`. */
export const varPath = z
  .string()
  .regex(
    /^(participant|booking|session|activity|answers|fields|trigger|link_worker)\.[a-z0-9_]+$/,
    'must be participant.*, booking.*, session.*, activity.*, answers.*, fields.*, trigger.* or link_worker.*',
  );

const scalar = z.union([z.string(), z.number(), z.boolean()]);

export type Condition =
  | {
      var: string;
      eq?: unknown;
      ne?: unknown;
      in?: unknown[];
      lt?: number;
      lte?: number;
      gt?: number;
      gte?: number;
      exists?: boolean;
    }
  | { tag: string }
  | { all: Condition[] }
  | { any: Condition[] }
  | { not: Condition };

export const condition: z.ZodType<Condition> = z.lazy(() =>
  z.union([
    z
      .object({
        var: varPath,
        eq: scalar.optional(),
        ne: scalar.optional(),
        in: z.array(scalar).optional(),
        lt: z.number().optional(),
        lte: z.number().optional(),
        gt: z.number().optional(),
        gte: z.number().optional(),
        exists: z.boolean().optional(),
      })
      .strict(),
    z.object({ tag: z.string().min(1) }).strict(),
    z.object({ all: z.array(condition).min(1) }).strict(),
    z.object({ any: z.array(condition).min(1) }).strict(),
    z.object({ not: condition }).strict(),
  ]),
) as z.ZodType<Condition>;

/** Variables a message may use: placeholder name -> variable path or literal. */
const vars = z.record(z.string().regex(/^[a-z][a-z0-9_]*$/), z.union([varPath, scalar])).optional();

const base = {
  id,
  /** Why this node exists; for authors only. */
  note: z.string().optional(),
};

const say = z
  .object({ ...base, type: z.literal('say'), text: messageKey, vars, next: id.optional() })
  .strict();

const onInvalid = z
  .object({
    hint: messageKey.optional(),
    tries: z.number().int().min(1).max(5).default(2),
    /** Where to go after the last failed try; absent = hand off to a human. */
    then: id.optional(),
  })
  .strict();

const timeout = z.object({ after: duration, then: id }).strict();

const option = z
  .object({
    value: z.string().regex(/^[a-z0-9_]+$/),
    /** Keyword list (in each locale's `keywords`) that also selects this option. */
    keywords: keywordKey.optional(),
    next: id.optional(),
  })
  .strict();

const askBase = {
  ...base,
  type: z.literal('ask'),
  text: messageKey,
  vars,
  /** Answer name under `answers.*`. Defaults to the node id. */
  save_as: id.optional(),
  next: id.optional(),
  on_invalid: onInvalid.optional(),
  timeout: timeout.optional(),
  /** After this long without a usable answer the flow ends (expired). Default 7d. */
  expires: duration.optional(),
  /** Allow the skip keyword; go to `on_skip` (or next). */
  skippable: z.boolean().default(false),
  on_skip: id.optional(),
};

const askChoice = z
  .object({ ...askBase, kind: z.literal('choice'), options: z.array(option).min(2).max(9) })
  .strict();
const askYesNo = z
  .object({ ...askBase, kind: z.literal('yes_no'), yes: id.optional(), no: id.optional() })
  .strict();
const askNumber = z
  .object({ ...askBase, kind: z.literal('number'), min: z.number().int(), max: z.number().int() })
  .strict();
/** Text formats an ask can read and normalise; the answer is what is kept, never more. */
export const textFormats = ['outward_postcode'] as const;
const askText = z
  .object({
    ...askBase,
    kind: z.literal('text'),
    max_length: z.number().int().min(1).max(1600),
    /** outward_postcode: "m16 0ra" or "M16" is kept as "M16"; anything else is not understood. */
    format: z.enum(textFormats).optional(),
  })
  .strict();

export const askNode = z.discriminatedUnion('kind', [askChoice, askYesNo, askNumber, askText]);

const branch = z
  .object({
    ...base,
    type: z.literal('branch'),
    cases: z.array(z.object({ when: condition, next: id }).strict()).min(1),
    else: id,
  })
  .strict();

/** Participant fields a flow may write. Anything else goes to `fields.*`. */
export const participantFields = [
  'first_name',
  'preferred_lang',
  'best_time',
  'digital_access',
  'age_band',
  'postcode_part',
  'primary_reason',
  'communication_needs',
  'access_needs',
] as const;

const set = z
  .object({
    ...base,
    type: z.literal('set'),
    field: z
      .string()
      .regex(/^(participant|fields)\.[a-z0-9_]+$/)
      .optional(),
    value: z.union([varPath, scalar]).optional(),
    tag: z.string().min(1).optional(),
    untag: z.string().min(1).optional(),
    next: id.optional(),
  })
  .strict()
  .refine((n) => (n.field !== undefined) !== (n.tag !== undefined || n.untag !== undefined), {
    message: 'set needs exactly one of field (with value) or tag/untag',
  })
  .refine((n) => n.field === undefined || n.value !== undefined, {
    message: 'set with field needs a value',
    path: ['value'],
  });

const record = z
  .object({
    ...base,
    type: z.literal('record'),
    /** Question code, e.g. ons4_life_satisfaction. */
    question: z.string().regex(/^[a-z0-9_]+$/),
    value: varPath,
    /** Record the value as a numeric score too. */
    score: z.boolean().default(false),
    next: id.optional(),
  })
  .strict();

const localTime = z.string().regex(/^([01]\d|2[0-3]):[0-5]\d$/, 'must be HH:mm');
const wait = z
  .object({
    ...base,
    type: z.literal('wait'),
    for: duration.optional(),
    /** A local time in the participant's zone: day offset 0 = today, 1 = tomorrow. */
    until: z
      .object({ day: z.number().int().min(0).max(14), time: localTime })
      .strict()
      .optional(),
    next: id,
  })
  .strict()
  .refine((n) => (n.for === undefined) !== (n.until === undefined), {
    message: 'wait needs exactly one of for or until',
  });

const handoff = z
  .object({
    ...base,
    type: z.literal('handoff'),
    reason: z.string().regex(/^[a-z0-9_]+$/),
    urgency: z.enum(['normal', 'urgent']).default('normal'),
    /** Message telling the participant a person will reply. */
    text: messageKey.optional(),
    vars,
    /** Where "back to the bot" resumes; absent = the flow ends when the human hands back. */
    resume: id.optional(),
  })
  .strict();

/** Referral routes (the TCF template's). */
export const referralRoutes = [
  'gp_primary_care',
  'link_worker',
  'self',
  'family_friend',
  'voluntary_group',
  'social_care',
  'housing',
  'school',
  'police',
  'other',
] as const;

/** Creates the participant's referral, or adds the reason to the open one. */
const referral = z
  .object({
    ...base,
    type: z.literal('referral'),
    route: z.enum(referralRoutes),
    /** The primary reason: a variable (e.g. answers.ask_reason) or a literal code. */
    reason: z.union([varPath, z.string().regex(/^[a-z0-9_]+$/)]).optional(),
    next: id.optional(),
  })
  .strict();

/**
 * A non-urgent task for the link worker (repeated misses, low wellbeing scores...). Unlike a
 * hand-off, the conversation carries on: the bot does not go quiet.
 */
const task = z
  .object({
    ...base,
    type: z.literal('task'),
    reason: z.string().regex(/^[a-z0-9_]+$/),
    urgency: z.enum(['normal', 'urgent']).default('normal'),
    next: id.optional(),
  })
  .strict();

const goto = z
  .object({ ...base, type: z.literal('goto'), flow: flowId, node: id.optional() })
  .strict();
const call = z
  .object({ ...base, type: z.literal('call'), flow: flowId, next: id.optional() })
  .strict();
const end = z
  .object({
    ...base,
    type: z.literal('end'),
    status: z.enum(['completed', 'interrupted']).default('completed'),
  })
  .strict();

export const nodeTypes = [
  'say',
  'ask',
  'branch',
  'set',
  'record',
  'wait',
  'handoff',
  'goto',
  'call',
  'end',
  'referral',
  'task',
] as const;
export type NodeType = (typeof nodeTypes)[number];

/** One schema per node type, so an unknown type gets its own clear error. */
export const nodeSchemas = {
  say,
  ask: askNode,
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
} satisfies Record<NodeType, z.ZodType>;
export const flowNode = z.union([
  say,
  askNode,
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
]);

export const flowSchema = z
  .object({
    version: z.literal(1),
    id: flowId,
    name: z.string().min(1),
    description: z.string().optional(),
    /** Node where the flow starts; default the first. */
    start: id.optional(),
    /** Budget in SMS segments for this flow's messages, when it must exceed the default. */
    segment_budget: z
      .object({ max: z.number().int().min(1), why: z.string().min(10) })
      .strict()
      .optional(),
    nodes: z.array(z.unknown()).min(1),
  })
  .strict();

export type FlowNode = z.infer<typeof flowNode>;
export type AskNode = z.infer<typeof askNode>;
export type Flow = Omit<z.infer<typeof flowSchema>, 'nodes'> & {
  nodes: FlowNode[];
  /** Revision hash of the source text, set by the parser. */
  rev: string;
};
export type NodeOf<T extends NodeType> = Extract<FlowNode, { type: T }>;
