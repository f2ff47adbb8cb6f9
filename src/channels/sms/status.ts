import { z } from 'zod';
import { type FieldError, type FormParams, flatten, zodErrors } from './form.js';

/** Outbound message statuses Twilio reports (SMS; `read` is WhatsApp/RCS). */
export const MESSAGE_STATUSES = [
  'accepted',
  'scheduled',
  'queued',
  'sending',
  'sent',
  'delivered',
  'read',
  'undelivered',
  'failed',
  'canceled',
] as const;
export type MessageStatus = (typeof MESSAGE_STATUSES)[number];

/** Progress order; everything at 5 or above is final. */
const RANK = {
  accepted: 0,
  scheduled: 0,
  queued: 1,
  sending: 2,
  sent: 3,
  delivered: 5,
  read: 6,
  undelivered: 5,
  failed: 5,
  canceled: 5,
} as const satisfies Record<MessageStatus, number>;

export function isFinal(status: MessageStatus): boolean {
  return RANK[status] >= 5;
}

/**
 * The status after a callback, given the one recorded. Callbacks arrive late, out of order
 * and twice, so a status only moves forward: a `sent` after `delivered` is ignored, a
 * duplicate changes nothing, and once final a message stays as it ended (only `read` can
 * follow `delivered`).
 */
export function nextStatus(current: MessageStatus | null, incoming: MessageStatus): MessageStatus {
  if (current === null) return incoming;
  if (isFinal(current)) return current === 'delivered' && incoming === 'read' ? 'read' : current;
  return RANK[incoming] > RANK[current] ? incoming : current;
}

const SID = /^(SM|MM)[0-9a-fA-F]{32}$/;

const callbackSchema = z.object({
  MessageSid: z.string().regex(SID, 'must be SM or MM followed by 32 hex digits'),
  MessageStatus: z.enum(MESSAGE_STATUSES, { error: 'is not a known message status' }),
  AccountSid: z.string().regex(/^AC[0-9a-fA-F]{32}$/, 'must be AC followed by 32 hex digits'),
  To: z.string().optional(),
  From: z.string().optional(),
  ErrorCode: z
    .string()
    .regex(/^\d*$/, 'must be a number')
    .transform((s) => (s === '' ? null : Number.parseInt(s, 10)))
    .optional(),
});

export interface StatusCallback {
  readonly messageSid: string;
  readonly accountSid: string;
  readonly status: MessageStatus;
  readonly errorCode: number | null;
  /** Our outbound message id, from the `m` query parameter we put in the callback URL. */
  readonly ourId: string | null;
}

export type ParseResult<T> =
  | { readonly ok: true; readonly value: T }
  | { readonly ok: false; readonly errors: readonly FieldError[] };

/** The parameter of the StatusCallback URL query that carries our outbound id. */
export const OUR_ID_PARAM = 'm';

/** Reads a (verified) StatusCallback: the form, and our id from the URL query. */
export function parseStatusCallback(
  params: FormParams,
  query: URLSearchParams = new URLSearchParams(),
): ParseResult<StatusCallback> {
  const { values, errors } = flatten(params);
  const parsed = callbackSchema.safeParse(values);
  if (!parsed.success || errors.length > 0) {
    return {
      ok: false,
      errors: [...errors, ...(parsed.success ? [] : zodErrors(parsed.error.issues))],
    };
  }
  const v = parsed.data;
  const value = {
    messageSid: v.MessageSid,
    accountSid: v.AccountSid,
    status: v.MessageStatus,
    errorCode: v.ErrorCode ?? null,
    ourId: query.get(OUR_ID_PARAM),
  };
  return { ok: true, value };
}
