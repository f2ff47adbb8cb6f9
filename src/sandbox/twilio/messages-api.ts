import { smsCost } from '../../engine/sms.js';
import { notOwned, type Rejection, rejectFrom, rejectTo, unsubscribed } from './magic-numbers.js';
import { type FakeMessage, type FakeStore, messageJson } from './store.js';
import { accountPath, newSid, twilioError, type WireResponse } from './wire.js';

export interface ApiContext {
  readonly accountSid: string;
  readonly store: FakeStore;
  /** Numbers the account owns; when non-empty a `From` outside it fails with 21606. */
  readonly numbers: readonly string[];
}

const MAX_BODY = 1600;
const MG_SID = /^MG[0-9a-fA-F]{32}$/;

function reject(r: Rejection): WireResponse {
  return twilioError(400, r.code, r.message);
}

/** Parameter problems Twilio reports before looking at the numbers. */
function checkParams(form: URLSearchParams): WireResponse | null {
  const to = form.get('To');
  const from = form.get('From');
  const service = form.get('MessagingServiceSid');
  const body = form.get('Body') ?? '';
  if (!to) return twilioError(400, 21604, "A 'To' phone number is required.");
  if (!from && !service) {
    return twilioError(
      400,
      21603,
      "A 'From' or 'MessagingServiceSid' parameter is required to send a message.",
    );
  }
  if (service && !MG_SID.test(service)) {
    return twilioError(400, 21701, `The Messaging Service Sid ${service} is invalid.`);
  }
  if (body === '' && !form.get('MediaUrl')) {
    return twilioError(400, 21602, 'Message body is required.');
  }
  if (body.length > MAX_BODY) {
    return twilioError(
      400,
      21617,
      'The concatenated message body exceeds the 1600 character limit.',
    );
  }
  return null;
}

function checkNumbers(ctx: ApiContext, form: URLSearchParams): WireResponse | null {
  const to = form.get('To') ?? '';
  const from = form.get('From');
  const service = form.get('MessagingServiceSid');
  if (from) {
    const bad = rejectFrom(from);
    if (bad) return reject(bad);
    if (ctx.numbers.length > 0 && !ctx.numbers.includes(from)) return reject(notOwned(from));
  }
  const badTo = rejectTo(to);
  if (badTo) return reject(badTo);
  if (ctx.store.isOptedOut([from, service], to)) return reject(unsubscribed());
  return null;
}

function intOrNull(value: string | null): number | null {
  return value === null || value === '' ? null : Number.parseInt(value, 10);
}

/** POST /Accounts/{sid}/Messages.json */
export function createMessage(
  ctx: ApiContext,
  form: URLSearchParams,
): { response: WireResponse; created: FakeMessage | null } {
  const problem = checkParams(form) ?? checkNumbers(ctx, form);
  if (problem) return { response: problem, created: null };
  const service = form.get('MessagingServiceSid');
  const body = form.get('Body') ?? '';
  const numMedia = form.getAll('MediaUrl').length;
  const created = ctx.store.add({
    sid: newSid(numMedia > 0 ? 'MM' : 'SM'),
    accountSid: ctx.accountSid,
    direction: 'outbound-api',
    to: form.get('To') ?? '',
    // Without a From, a Messaging Service picks its sender later: null while `accepted`.
    from: form.get('From'),
    messagingServiceSid: service,
    body,
    numSegments: Math.max(1, smsCost(body).segments),
    numMedia,
    status: service ? 'accepted' : 'queued',
    statusCallback: form.get('StatusCallback'),
    validityPeriod: intOrNull(form.get('ValidityPeriod')),
  });
  return { response: { status: 201, body: messageJson(created) }, created };
}

/** GET /Accounts/{sid}/Messages/{MessageSid}.json */
export function fetchMessage(ctx: ApiContext, sid: string, path: string): WireResponse {
  const message = ctx.store.get(sid);
  if (!message) return notFound(path);
  return { status: 200, body: messageJson(message) };
}

/**
 * Statuses Twilio lets a message be deleted in: final ones. A message still on its way
 * (accepted, scheduled, queued, sending) or `sent` and waiting for its delivery receipt is
 * refused with 20009 ("Cannot delete message in state SENT", as Twilio has answered callers
 * deleting sent messages); Twilio asks to wait at least a minute and try again.
 */
export const DELETABLE: ReadonlySet<string> = new Set([
  'delivered',
  'undelivered',
  'failed',
  'received',
  'canceled',
]);

/**
 * The HTTP status the fake gives error 20009. Twilio documents the code and its message, not
 * the status; callers should go by the code (src/privacy/twilio-erase.ts does).
 */
export const IN_FLIGHT_STATUS = 409;

/** DELETE /Accounts/{sid}/Messages/{MessageSid}.json: 204 and no body when done. */
export function deleteMessage(ctx: ApiContext, sid: string, path: string): WireResponse {
  const message = ctx.store.get(sid);
  if (!message) return notFound(path);
  if (!DELETABLE.has(message.status))
    return twilioError(
      IN_FLIGHT_STATUS,
      20009,
      'Cannot delete this resource before it is complete',
    );
  ctx.store.remove(message);
  return { status: 204, body: null };
}

export function notFound(path: string): WireResponse {
  return twilioError(404, 20404, `The requested resource ${path} was not found`);
}

/** GET /Accounts/{sid}/Messages.json with To, From, DateSent[<>] filters and paging. */
export function listMessages(ctx: ApiContext, query: URLSearchParams): WireResponse {
  const matching = ctx.store
    .filtered(query.get('To'), query.get('From'))
    .filter((m) => matchesFilters(m, query));
  const pageSize = clamp(intOrNull(query.get('PageSize')) ?? 50, 1, 1000);
  const page = Math.max(0, intOrNull(query.get('Page')) ?? 0);
  const token = query.get('PageToken');
  const afterToken = token ? matching.findIndex((m) => `PA${m.sid}` === token) + 1 : 0;
  const start = token ? afterToken : page * pageSize;
  const items = matching.slice(start, start + pageSize);
  const hasMore = start + pageSize < matching.length;
  const pageUri = (p: number, t?: string) =>
    `${accountPath(ctx.accountSid)}/Messages.json?${pageQuery(query, pageSize, p, t)}`;
  const last = items[items.length - 1];
  return {
    status: 200,
    body: {
      first_page_uri: pageUri(0),
      end: start + Math.max(items.length - 1, 0),
      previous_page_uri: page > 0 ? pageUri(page - 1) : null,
      messages: items.map(messageJson),
      uri: pageUri(page, token ?? undefined),
      page_size: pageSize,
      start,
      next_page_uri: hasMore && last ? pageUri(page + 1, `PA${last.sid}`) : null,
      page,
    },
  };
}

function clamp(n: number, min: number, max: number): number {
  return Math.min(max, Math.max(min, Number.isNaN(n) ? min : n));
}

function pageQuery(query: URLSearchParams, pageSize: number, page: number, token?: string) {
  const q = new URLSearchParams();
  for (const key of ['To', 'From', 'DateSent', 'DateSent<', 'DateSent>']) {
    const value = query.get(key);
    if (value !== null) q.set(key, value);
  }
  q.set('PageSize', String(pageSize));
  q.set('Page', String(page));
  if (token) q.set('PageToken', token);
  return q.toString();
}

function matchesFilters(m: FakeMessage, query: URLSearchParams): boolean {
  const to = query.get('To');
  const from = query.get('From');
  if (to !== null && m.to !== to) return false;
  if (from !== null && m.from !== from) return false;
  return matchesDates(m.dateSent, query);
}

const DAY_MS = 86_400_000;
const DATE_ONLY = /^\d{4}-\d{2}-\d{2}$/;

/** `DateSent>` is on-or-after, `DateSent<` on-or-before; a bare date means the whole UTC day. */
function matchesDates(sent: Date | null, query: URLSearchParams): boolean {
  const on = query.get('DateSent');
  const after = query.get('DateSent>');
  const before = query.get('DateSent<');
  if (on === null && after === null && before === null) return true;
  if (sent === null) return false;
  const t = sent.getTime();
  const day = (v: string) => Date.parse(DATE_ONLY.test(v) ? `${v}T00:00:00Z` : v);
  const endOf = (v: string) => (DATE_ONLY.test(v) ? day(v) + DAY_MS - 1 : day(v));
  if (on !== null && (t < day(on) || t > day(on) + DAY_MS - 1)) return false;
  if (after !== null && t < day(after)) return false;
  if (before !== null && t > endOf(before)) return false;
  return true;
}
