/** The sandbox API's request bodies and queries: zod at the edge, as everywhere else. */
import { z } from 'zod';

const e164 = z
  .string()
  .regex(/^\+[1-9]\d{6,14}$/, 'expected an E.164 number such as +447700900111');
const slackId = z.string().regex(/^[A-Z0-9]{2,20}$/, 'expected a Slack id');
const ts = z.string().regex(/^\d{10}\.\d{6}$/, 'expected a Slack message ts');

export const phoneQuery = z.strictObject({ phone: e164 });

export const smsBody = z.strictObject({
  from: e164,
  body: z.string().trim().min(1, 'type a message').max(1600, 'at most 1600 characters'),
});

export const clickBody = z.strictObject({
  user: slackId,
  channel: slackId,
  ts,
  actionId: z.string().min(1).max(255),
  value: z.string().max(2000).optional(),
});

export const replyBody = z.strictObject({
  user: slackId,
  channel: slackId,
  threadTs: ts,
  text: z.string().trim().min(1, 'type a reply').max(4000),
});

/** A line typed in the Slack pane's composer: only `/linkline ...` is sent (as Slack would). */
export const commandBody = z.strictObject({
  user: slackId,
  channel: slackId.optional(),
  text: z
    .string()
    .trim()
    .max(4000)
    .regex(/^\/linkline(\s|$)/, 'only /linkline commands are sent from here'),
});

export const homeBody = z.strictObject({ user: slackId });

const viewId = z.string().regex(/^V[A-Z0-9]{2,20}$/, 'expected a view id');

/** A modal's inputs: block_id -> action_id -> a text or a chosen option's value. */
const viewValues = z.record(
  z.string().max(255),
  z.record(
    z.string().max(255),
    z.union([
      z.strictObject({ text: z.string().max(3000) }),
      z.strictObject({ option: z.string().max(2000) }),
    ]),
  ),
);

export type ViewValues = z.output<typeof viewValues>;

export const viewSubmitBody = z.strictObject({ user: slackId, viewId, values: viewValues });

export const viewSelectBody = z.strictObject({
  user: slackId,
  viewId,
  actionId: z.string().min(1).max(255),
  value: z.string().max(2000),
  values: viewValues.optional(),
});

export const viewCloseBody = z.strictObject({ user: slackId, viewId });

/** `by`: a step such as 30m, 1h or 1d; `to`: a local wall time in the service's zone. */
export const clockBody = z.union([
  z.strictObject({
    by: z.string().regex(/^[1-9]\d{0,3}[mhd]$/, 'expected a step such as 30m, 1h or 1d'),
  }),
  z.strictObject({
    to: z
      .string()
      .regex(/^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}$/, 'expected a local time like 2026-12-07T10:00'),
  }),
]);

export type ClockBody = z.output<typeof clockBody>;
