import type { TwilioConfig } from '../../config/schema.js';
import { type SmsEncoding, smsCost } from '../../engine/sms.js';
import { type Logger, maskPhone } from '../../log.js';
import { classifySendError, type SendFailure } from './classify.js';
import { type ReconcileRequest, type ReconcileResult, reconcileSend } from './reconcile.js';
import { OUR_ID_PARAM } from './status.js';
import { capture, createTwilioClient, type TwilioClient } from './twilio-client.js';

export interface SendRequest {
  /** Our outbound message id (the outbox row, persisted before this call). */
  readonly ourId: string;
  /** E.164 recipient. */
  readonly to: string;
  readonly body: string;
  /** Our public StatusCallback URL; `?m=<ourId>` is added so callbacks find the row. */
  readonly statusCallbackUrl: string;
  /** Twilio drops the message if not sent within this many seconds (1 to 36000). */
  readonly validitySeconds?: number;
}

export type SendResult =
  | {
      readonly kind: 'sent';
      readonly sid: string;
      readonly status: string;
      readonly segments: number;
      readonly encoding: SmsEncoding;
    }
  | SendFailure;

export interface SmsSender {
  send(request: SendRequest): Promise<SendResult>;
  /** After an ambiguous send: did Twilio create it anyway? */
  reconcile(request: ReconcileRequest): Promise<ReconcileResult>;
  /** Closes kept-alive connections. */
  close(): void;
}

/**
 * The Twilio HTTP timeout: a hung call fails the attempt (as ambiguous, so it is reconciled)
 * well inside the outbound job's lock (JOB_LOCK_MS in scheduler/queues.ts; checklist 47).
 */
export const TWILIO_HTTP_TIMEOUT_MS = 10_000;

export interface SmsSenderOptions {
  readonly logger: Logger;
  /** Must stay below the job lock margin (checklist 47); 10 s by default. */
  readonly httpTimeoutMs?: number;
  /** After an ambiguous attempt, how long "not found" is not yet proof (RESEND_AFTER_MS). */
  readonly resendAfterMs?: number;
}

/** The StatusCallback URL carrying our id, so a callback links even before the sid is saved. */
export function callbackUrlFor(base: string, ourId: string): string {
  const url = new URL(base);
  url.searchParams.set(OUR_ID_PARAM, ourId);
  return url.toString();
}

function senderParams(config: TwilioConfig): { from?: string; messagingServiceSid?: string } {
  return {
    ...(config.messagingServiceSid ? { messagingServiceSid: config.messagingServiceSid } : {}),
    ...(config.from ? { from: config.from } : {}),
  };
}

function checkValidity(seconds: number | undefined): void {
  if (seconds === undefined) return;
  if (!Number.isInteger(seconds) || seconds < 1 || seconds > 36_000) {
    throw new RangeError('validitySeconds must be a whole number from 1 to 36000');
  }
}

/**
 * Sends SMS through the real twilio SDK and reports every outcome as a value. Never logs a
 * body or a whole number (Twilio's own error messages quote the number, so they are not
 * logged either).
 */
export function createSmsSender(config: TwilioConfig, options: SmsSenderOptions): SmsSender {
  const client = createTwilioClient(config, options.httpTimeoutMs ?? TWILIO_HTTP_TIMEOUT_MS);
  const log = options.logger.child({ component: 'sms_sender' });
  return {
    send: (request) => sendOnce(client, config, log, request),
    reconcile: (request) => reconcileSend(client.api, config, request, log, options.resendAfterMs),
    close: () => client.close(),
  };
}

async function sendOnce(
  client: TwilioClient,
  config: TwilioConfig,
  log: Logger,
  request: SendRequest,
): Promise<SendResult> {
  checkValidity(request.validitySeconds);
  const cost = smsCost(request.body);
  const started = Date.now();
  const outcome = await capture(() =>
    client.api.messages.create({
      to: request.to,
      body: request.body,
      statusCallback: callbackUrlFor(request.statusCallbackUrl, request.ourId),
      ...(request.validitySeconds ? { validityPeriod: request.validitySeconds } : {}),
      ...senderParams(config),
    }),
  );
  const result: SendResult = outcome.ok
    ? {
        kind: 'sent',
        sid: outcome.value.sid,
        status: outcome.value.status,
        segments: Number(outcome.value.numSegments) || cost.segments,
        encoding: cost.encoding,
      }
    : classifySendError(outcome.error, outcome.headers);
  const { kind, ...details } = result;
  const to = maskPhone(request.to);
  log.info(
    { ourId: request.ourId, to, outcome: kind, ...details, ms: Date.now() - started },
    'sms send',
  );
  return result;
}
