import { randomBytes } from 'node:crypto';

/** Twilio's resource-id prefixes the fake issues: messages, MMS, media, page tokens. */
export type SidPrefix = 'SM' | 'MM' | 'ME' | 'PA';

export function newSid(prefix: SidPrefix): string {
  return prefix + randomBytes(16).toString('hex');
}

/** Dates as the 2010-04-01 API writes them: `Thu, 24 Aug 2023 05:01:45 +0000`. */
export function rfc2822(date: Date): string {
  return date.toUTCString().replace('GMT', '+0000');
}

/** What a handler answers; the server turns it into JSON on the wire. */
export type WireResponse = {
  readonly status: number;
  readonly body: unknown;
  readonly headers?: Readonly<Record<string, string>>;
};

/** Twilio's error envelope: HTTP status plus its numeric error code and docs link. */
export function twilioError(
  status: number,
  code: number,
  message: string,
  headers?: Readonly<Record<string, string>>,
): WireResponse {
  const body = { code, message, more_info: `https://www.twilio.com/docs/errors/${code}`, status };
  return headers ? { status, body, headers } : { status, body };
}

export const API_VERSION = '2010-04-01';

export function accountPath(accountSid: string): string {
  return `/${API_VERSION}/Accounts/${accountSid}`;
}

const XML_ENTITIES: Readonly<Record<string, string>> = {
  '&lt;': '<',
  '&gt;': '>',
  '&quot;': '"',
  '&apos;': "'",
  '&amp;': '&',
};

/** The text of each `<Message>` in a TwiML reply (the webhook's answer to an inbound SMS). */
export function twimlMessages(xml: string): string[] {
  const bodies: string[] = [];
  for (const match of xml.matchAll(/<Message(?:\s[^>]*)?>([\s\S]*?)<\/Message>/g)) {
    const inner = (match[1] ?? '').replace(/<Body(?:\s[^>]*)?>([\s\S]*?)<\/Body>/, '$1');
    bodies.push(inner.replace(/&(lt|gt|quot|apos|amp);/g, (e) => XML_ENTITIES[e] ?? e));
  }
  return bodies;
}
