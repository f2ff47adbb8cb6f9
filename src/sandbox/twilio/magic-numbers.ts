/**
 * Numbers that make the fake behave like Twilio does for real failures. The first group is
 * Twilio's own test-credential magic numbers (https://www.twilio.com/docs/iam/test-credentials);
 * the second uses Ofcom's drama ranges, which never reach a real phone.
 *
 * To (rejected at once, HTTP 400):
 *   +15005550001  21211 invalid 'To' number
 *   +15005550002  21612 not reachable via SMS
 *   +15005550003  21408 no permission for the destination region
 *   +15005550004  21610 unsubscribed (also any number that texted STOP to the sender)
 *   +15005550009  21614 not a mobile number
 *   +441..., +442...  21614: UK geographic landlines, e.g. +441632960000 (drama range)
 *   anything not E.164 (`+` and 7-15 digits)  21211
 * To (accepted with 201, then the status callback reports the failure):
 *   +447700900903  undelivered 30003 unreachable handset
 *   +447700900905  undelivered 30005 unknown destination
 *   +447700900906  undelivered 30006 landline or unreachable carrier
 *   +447700900907  undelivered 30007 filtered as spam
 *   +447700900908  failed      30008 unknown error
 *   +447700900936  failed      30036 validity period expired
 * From (rejected, HTTP 400):
 *   +15005550001  21212 invalid 'From'
 *   +15005550007  21606 'From' is not a number of this account
 *   +15005550008  21611 'From' queue is full
 * Every other E.164 number is accepted and, with the automatic lifecycle on, delivered.
 */

export type Rejection = { readonly code: number; readonly message: string };
export type LateFailure = { readonly status: 'undelivered' | 'failed'; readonly errorCode: number };

const E164 = /^\+[1-9]\d{6,14}$/;

export function invalidTo(to: string): Rejection {
  return { code: 21211, message: `The 'To' number ${to} is not a valid phone number.` };
}

const REJECT_TO: Readonly<Record<string, (to: string) => Rejection>> = {
  '+15005550001': invalidTo,
  '+15005550002': (to) => ({
    code: 21612,
    message: `The 'To' phone number: ${to}, is not currently reachable via SMS.`,
  }),
  '+15005550003': (to) => ({
    code: 21408,
    message: `Permission to send an SMS has not been enabled for the region indicated by the 'To' number: ${to}.`,
  }),
  '+15005550004': () => unsubscribed(),
  '+15005550009': () => notMobile(),
};

const LATE_FAILURE: Readonly<Record<string, LateFailure>> = {
  '+447700900903': { status: 'undelivered', errorCode: 30003 },
  '+447700900905': { status: 'undelivered', errorCode: 30005 },
  '+447700900906': { status: 'undelivered', errorCode: 30006 },
  '+447700900907': { status: 'undelivered', errorCode: 30007 },
  '+447700900908': { status: 'failed', errorCode: 30008 },
  '+447700900936': { status: 'failed', errorCode: 30036 },
};

const REJECT_FROM: Readonly<Record<string, (from: string) => Rejection>> = {
  '+15005550001': (from) => ({
    code: 21212,
    message: `The 'From' number ${from} is not a valid phone number, shortcode, or alphanumeric sender ID.`,
  }),
  '+15005550007': notOwned,
  '+15005550008': () => ({
    code: 21611,
    message: "This 'From' number has exceeded the maximum number of queued messages",
  }),
};

export function unsubscribed(): Rejection {
  return { code: 21610, message: 'Attempt to send to unsubscribed recipient' };
}

function notMobile(): Rejection {
  return { code: 21614, message: "'To' number is not a valid mobile number" };
}

export function notOwned(from: string): Rejection {
  return {
    code: 21606,
    message: `The 'From' phone number provided (${from}) is not a valid message-capable Twilio phone number for this destination/account.`,
  };
}

/** Why Twilio would refuse to create a message to this number, or null. */
export function rejectTo(to: string): Rejection | null {
  if (!E164.test(to)) return invalidTo(to);
  const magic = REJECT_TO[to];
  if (magic) return magic(to);
  if (to.startsWith('+441') || to.startsWith('+442')) return notMobile();
  return null;
}

export function rejectFrom(from: string): Rejection | null {
  const magic = REJECT_FROM[from];
  return magic ? magic(from) : null;
}

/** How the message ends when it does not end `delivered`. */
export function lateFailure(to: string): LateFailure | null {
  return LATE_FAILURE[to] ?? null;
}
