/** The Twilio SMS channel: verify and parse webhooks, send, classify, reconcile, track status. */
export { classifySendError, retryAfterMs, type SendFailure } from './classify.js';
export {
  describeTwilioError,
  type PermanentReason,
  permanentReason,
  TWILIO_ERRORS,
  type TwilioErrorInfo,
  type TwilioErrorReason,
} from './errors.js';
export type { FieldError, FormParams } from './form.js';
export { classifyNumber, isTextable, type NumberKind } from './number-type.js';
export { type InboundMedia, type InboundSms, parseInbound } from './parse-inbound.js';
export type { ReconcileRequest, ReconcileResult } from './reconcile.js';
export { backoffMs, type RetriedResult, type RetryOptions, sendWithRetry } from './retry.js';
export {
  callbackUrlFor,
  createSmsSender,
  type SendRequest,
  type SendResult,
  type SmsSender,
  type SmsSenderOptions,
} from './sender.js';
export {
  isFinal,
  MESSAGE_STATUSES,
  type MessageStatus,
  nextStatus,
  OUR_ID_PARAM,
  type ParseResult,
  parseStatusCallback,
  type StatusCallback,
} from './status.js';
export {
  signedUrl,
  type TwilioRequestToVerify,
  type VerifyOutcome,
  verifyTwilioRequest,
} from './verify.js';
