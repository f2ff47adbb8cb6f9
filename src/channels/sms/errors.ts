/**
 * Twilio error codes Linkline acts on, from the REST API (send time) and from status
 * callbacks (delivery time), with what to do about each. Used by the sender to classify a
 * failed `POST /Messages` and by status handling to decide on a later re-send.
 * https://www.twilio.com/docs/api/errors
 */

export type TwilioErrorReason =
  | 'opted_out'
  | 'invalid_number'
  | 'landline'
  | 'unreachable'
  | 'filtered'
  | 'expired'
  | 'rate_limited'
  | 'provider_error'
  | 'config'
  | 'other';

export interface TwilioErrorInfo {
  /** Trying the same request again soon may succeed. */
  readonly retryable: boolean;
  readonly reason: TwilioErrorReason;
  /**
   * For a delivery failure: one delayed re-send is worthwhile (checklist 41: 30003 and 30008
   * yes, 30005 and 30007 no).
   */
  readonly redeliver: boolean;
  readonly description: string;
}

const info = (
  retryable: boolean,
  reason: TwilioErrorReason,
  description: string,
  redeliver = false,
): TwilioErrorInfo => ({ retryable, reason, redeliver, description });

export const TWILIO_ERRORS: Readonly<Record<number, TwilioErrorInfo>> = {
  20003: info(false, 'config', 'Authentication failed: check the Account SID and Auth Token'),
  20404: info(false, 'other', 'The requested resource was not found'),
  20429: info(true, 'rate_limited', 'Too many requests'),
  20500: info(true, 'provider_error', 'Twilio internal error'),
  20503: info(true, 'provider_error', 'Twilio service unavailable'),
  21211: info(false, 'invalid_number', "Invalid 'To' phone number"),
  21212: info(false, 'config', "Invalid 'From' number"),
  21408: info(false, 'config', 'Sending to this region is not enabled'),
  21602: info(false, 'other', 'Message body is required'),
  21603: info(false, 'config', "A 'From' or Messaging Service is required"),
  21604: info(false, 'invalid_number', "A 'To' number is required"),
  21606: info(false, 'config', "The 'From' number is not a message-capable number of the account"),
  21610: info(false, 'opted_out', 'The recipient replied STOP: sending is blocked'),
  21611: info(true, 'rate_limited', "The 'From' number's queue is full"),
  21612: info(false, 'unreachable', "The 'To' number cannot be reached by SMS from this sender"),
  21614: info(false, 'landline', "The 'To' number is not a mobile number"),
  21617: info(false, 'other', 'The message body exceeds 1600 characters'),
  21635: info(false, 'landline', "The 'To' number is a landline"),
  21701: info(false, 'config', 'The Messaging Service does not exist'),
  30001: info(true, 'rate_limited', 'Queue overflow', true),
  30002: info(false, 'config', 'Account suspended'),
  30003: info(false, 'unreachable', 'Unreachable destination handset', true),
  30004: info(false, 'filtered', 'Message blocked by the recipient or carrier'),
  30005: info(false, 'invalid_number', 'Unknown destination handset'),
  30006: info(false, 'landline', 'Landline or unreachable carrier'),
  30007: info(false, 'filtered', 'Message filtered by the carrier'),
  30008: info(false, 'unreachable', 'Unknown error from the carrier', true),
  30034: info(false, 'config', 'Sender not registered for A2P messaging'),
  30036: info(false, 'expired', 'Validity period expired before the message was sent'),
};

const UNKNOWN: TwilioErrorInfo = info(false, 'other', 'Unrecognised Twilio error');

export function describeTwilioError(code: number): TwilioErrorInfo {
  return TWILIO_ERRORS[code] ?? UNKNOWN;
}

/** The few reasons a caller must handle differently when a send is refused for good. */
export type PermanentReason = 'opted_out' | 'invalid_number' | 'landline' | 'other';

export function permanentReason(code: number): PermanentReason {
  const { reason } = describeTwilioError(code);
  return reason === 'opted_out' || reason === 'invalid_number' || reason === 'landline'
    ? reason
    : 'other';
}
