/**
 * Refusals of the booking domain. The admin API maps `kind` to a status (not_found 404,
 * conflict 409, invalid 400); the import reports the message at the line that caused it.
 */
export type BookingErrorCode =
  | 'activity_not_found'
  | 'session_not_found'
  | 'participant_not_found'
  | 'booking_not_found'
  | 'activity_not_active'
  | 'session_cancelled'
  | 'session_started'
  | 'no_future_sessions'
  | 'participant_erased'
  | 'booking_closed'
  | 'duplicate_phone'
  | 'duplicate_ref'
  | 'duplicate_key'
  | 'session_clash'
  | 'invalid_series'
  | 'invalid_move'
  | 'unknown_reference';

export type BookingErrorKind = 'not_found' | 'conflict' | 'invalid';

const KINDS: Record<BookingErrorCode, BookingErrorKind> = {
  activity_not_found: 'not_found',
  session_not_found: 'not_found',
  participant_not_found: 'not_found',
  booking_not_found: 'not_found',
  activity_not_active: 'conflict',
  session_cancelled: 'conflict',
  session_started: 'conflict',
  no_future_sessions: 'conflict',
  participant_erased: 'conflict',
  booking_closed: 'conflict',
  duplicate_phone: 'conflict',
  duplicate_ref: 'conflict',
  duplicate_key: 'conflict',
  session_clash: 'conflict',
  invalid_series: 'invalid',
  invalid_move: 'invalid',
  unknown_reference: 'invalid',
};

export class BookingError extends Error {
  readonly code: BookingErrorCode;
  readonly kind: BookingErrorKind;
  readonly retryable = false;
  /** The input field at fault, as a path into the request or import record. */
  readonly path: readonly (string | number)[];

  constructor(
    code: BookingErrorCode,
    message: string,
    options: { path?: readonly (string | number)[]; cause?: unknown } = {},
  ) {
    super(message, options.cause === undefined ? undefined : { cause: options.cause });
    this.name = 'BookingError';
    this.code = code;
    this.kind = KINDS[code];
    this.path = options.path ?? [];
  }
}
