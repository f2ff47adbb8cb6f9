import { parsePhoneNumberFromString } from 'libphonenumber-js';
import { smsCost } from '../../engine/sms.js';
import { postSignedForm, type WebhookReply } from './post-form.js';
import type { FakeStore } from './store.js';
import { API_VERSION, newSid, twimlMessages } from './wire.js';

/** A participant's text, as the fake will deliver it to the inbound webhook. */
export interface InboundInput {
  readonly from: string;
  /** Our number (the one the participant texted). */
  readonly to: string;
  readonly body: string;
  readonly messagingServiceSid?: string;
  /** Media URLs (an MMS); `numMedia` defaults to their count. */
  readonly mediaUrls?: readonly (string | { readonly url: string; readonly contentType: string })[];
  readonly numMedia?: number;
  /** Reuse a sid to replay or duplicate a delivery; a fresh one otherwise. */
  readonly messageSid?: string;
  /** The URL the signature covers; the fake's `webhookUrl` when omitted. */
  readonly signUrl?: string;
  /** Where the request really goes; `signUrl` (or the fake's `webhookPostUrl`) when omitted. */
  readonly postUrl?: string;
  /** Sign with this token instead of the account's (forgery and rotation tests). */
  readonly authToken?: string;
  /** Send this signature header verbatim; null sends none. */
  readonly signature?: string | null;
  /** Parameters added after the standard ones (Twilio adds new ones from time to time). */
  readonly extraParams?: Readonly<Record<string, string>>;
}

export interface InboundDelivery extends WebhookReply {
  readonly messageSid: string;
  readonly params: Readonly<Record<string, string>>;
  /** What Twilio's default opt-out handling did with this message. */
  readonly keyword: 'stop' | 'start' | 'help' | null;
}

const STOP = new Set([
  'STOP',
  'STOPALL',
  'UNSUBSCRIBE',
  'CANCEL',
  'END',
  'QUIT',
  'REVOKE',
  'OPTOUT',
]);
const START = new Set(['START', 'YES', 'UNSTOP']);
const HELP = new Set(['HELP', 'INFO']);

/** Twilio's default opt-out handling matches a single keyword, ignoring case and spaces. */
export function optOutKeyword(body: string): InboundDelivery['keyword'] {
  const word = body.trim().toUpperCase();
  if (STOP.has(word)) return 'stop';
  if (START.has(word)) return 'start';
  if (HELP.has(word)) return 'help';
  return null;
}

function country(e164: string): string {
  const parsed = parsePhoneNumberFromString(e164);
  if (parsed?.country) return parsed.country;
  if (e164.startsWith('+44')) return 'GB';
  return e164.startsWith('+1') ? 'US' : '';
}

/** The form Twilio posts to a Messaging webhook for an incoming SMS or MMS. */
export function inboundParams(
  input: InboundInput,
  accountSid: string,
  sid: string,
): Record<string, string> {
  const media = (input.mediaUrls ?? []).map((m) =>
    typeof m === 'string' ? { url: m, contentType: 'image/jpeg' } : m,
  );
  const params: Record<string, string> = {
    ToCountry: country(input.to),
    ToState: '',
    SmsMessageSid: sid,
    NumMedia: String(input.numMedia ?? media.length),
    ToCity: '',
    FromZip: '',
    SmsSid: sid,
    FromState: '',
    SmsStatus: 'received',
    FromCity: '',
    Body: input.body,
    FromCountry: country(input.from),
    To: input.to,
    ToZip: '',
    NumSegments: String(Math.max(1, smsCost(input.body).segments)),
    MessageSid: sid,
    AccountSid: accountSid,
    From: input.from,
    ApiVersion: API_VERSION,
  };
  if (input.messagingServiceSid) params.MessagingServiceSid = input.messagingServiceSid;
  media.forEach((m, i) => {
    params[`MediaContentType${i}`] = m.contentType;
    params[`MediaUrl${i}`] = m.url;
  });
  return { ...params, ...input.extraParams };
}

export interface InboundContext {
  readonly accountSid: string;
  readonly authToken: string;
  readonly store: FakeStore;
  readonly webhookUrl: string | null;
  readonly webhookPostUrl: string | null;
}

/** Applies Twilio's carrier-level STOP/START block for this sender and participant. */
function applyKeyword(ctx: InboundContext, input: InboundInput): InboundDelivery['keyword'] {
  const keyword = optOutKeyword(input.body);
  const senders = [input.to, input.messagingServiceSid].filter((s): s is string => !!s);
  for (const sender of senders) {
    if (keyword === 'stop') ctx.store.optOut(sender, input.from);
    if (keyword === 'start') ctx.store.optIn(sender, input.from);
  }
  return keyword;
}

function recordInbound(ctx: InboundContext, input: InboundInput, sid: string): void {
  if (ctx.store.get(sid)) return;
  ctx.store.add({
    sid,
    accountSid: ctx.accountSid,
    direction: 'inbound',
    to: input.to,
    from: input.from,
    messagingServiceSid: input.messagingServiceSid ?? null,
    body: input.body,
    numSegments: Math.max(1, smsCost(input.body).segments),
    numMedia: input.numMedia ?? input.mediaUrls?.length ?? 0,
    status: 'received',
    statusCallback: null,
    validityPeriod: null,
  });
}

/** Sends the TwiML `<Message>` replies, as Twilio does with a webhook's answer. */
function recordReplies(ctx: InboundContext, input: InboundInput, reply: WebhookReply): void {
  if (reply.status !== 200 || !reply.body.includes('<Message')) return;
  for (const body of twimlMessages(reply.body)) {
    ctx.store.add({
      sid: newSid('SM'),
      accountSid: ctx.accountSid,
      direction: 'outbound-reply',
      to: input.from,
      from: input.to,
      messagingServiceSid: input.messagingServiceSid ?? null,
      body,
      numSegments: Math.max(1, smsCost(body).segments),
      numMedia: 0,
      status: 'sent',
      statusCallback: null,
      validityPeriod: null,
    });
  }
}

export async function deliverInbound(
  ctx: InboundContext,
  input: InboundInput,
): Promise<InboundDelivery> {
  const signUrl = input.signUrl ?? ctx.webhookUrl;
  if (!signUrl) throw new Error('sendInbound needs a webhookUrl (fake option) or signUrl');
  const hasMedia = (input.numMedia ?? input.mediaUrls?.length ?? 0) > 0;
  const messageSid = input.messageSid ?? newSid(hasMedia ? 'MM' : 'SM');
  const keyword = applyKeyword(ctx, input);
  recordInbound(ctx, input, messageSid);
  const params = inboundParams(input, ctx.accountSid, messageSid);
  const postUrl =
    input.postUrl ?? (input.signUrl ? input.signUrl : (ctx.webhookPostUrl ?? signUrl));
  const reply = await postSignedForm({
    signUrl,
    postUrl,
    params,
    authToken: input.authToken ?? ctx.authToken,
    ...(input.signature !== undefined ? { signature: input.signature } : {}),
  });
  recordReplies(ctx, input, reply);
  return { ...reply, messageSid, params, keyword };
}
