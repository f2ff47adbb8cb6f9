import { z } from 'zod';

export const SESSION_SCHEMA = 1;

const scalar = z.union([z.string(), z.number(), z.boolean(), z.null()]);
const bag = z.record(z.string(), z.unknown());

/** What a flow can read: snapshots taken at trigger time, plus what the flow itself changed. */
export const contextSchema = z.object({
  participant: z
    .object({ tags: z.array(z.string()).default([]), fields: bag.default({}) })
    .catchall(z.unknown()),
  booking: bag.optional(),
  session: bag.optional(),
  activity: bag.optional(),
  link_worker: bag.optional(),
  trigger: z.record(z.string(), scalar).optional(),
});

const frame = z.object({ flow_id: z.string(), flow_rev: z.string(), next: z.string().optional() });

export const waitSchema = z.object({
  id: z.string(),
  kind: z.enum(['reply', 'timer', 'handoff']),
  timeout_at: z.string().optional(),
  expires_at: z.string().optional(),
  /** Failed attempts at this ask so far. */
  tries: z.number().int().min(0).default(0),
});

/** One participant's conversation. Plain JSON, stored as-is by the runner. */
export const sessionSchema = z.object({
  schema: z.literal(SESSION_SCHEMA),
  id: z.string(),
  flow_id: z.string(),
  flow_rev: z.string(),
  lang: z.string(),
  status: z.enum(['waiting', 'handed_off', 'ended']),
  node: z.string(),
  wait: waitSchema.optional(),
  stack: z.array(frame),
  answers: z.record(z.string(), z.union([z.string(), z.number()])),
  context: contextSchema,
  started_at: z.string(),
  updated_at: z.string(),
  ended: z
    .object({ status: z.enum(['completed', 'interrupted', 'expired', 'failed']), at: z.string() })
    .optional(),
});

export type Session = z.infer<typeof sessionSchema>;
export type Context = z.infer<typeof contextSchema>;
export type Wait = z.infer<typeof waitSchema>;
export type Frame = z.infer<typeof frame>;
