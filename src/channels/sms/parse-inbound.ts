import { z } from 'zod';
import { type FieldError, type FormParams, flatten, zodErrors } from './form.js';
import type { ParseResult } from './status.js';

const SID = /^(SM|MM)[0-9a-fA-F]{32}$/;
const MAX_MEDIA = 10;

const count = (field: string, fallback: number) =>
  z
    .string()
    .regex(/^\d{1,3}$/, `${field} must be a whole number`)
    .transform((s) => Number.parseInt(s, 10))
    .default(fallback);

/**
 * Twilio's inbound Messaging webhook form. Only what Linkline relies on is required; other
 * (and future) parameters pass through unchecked. `Body` is never trimmed or normalised:
 * spaces, newlines and emoji are the participant's words.
 */
const inboundSchema = z.object({
  MessageSid: z.string().regex(SID, 'must be SM or MM followed by 32 hex digits'),
  AccountSid: z.string().regex(/^AC[0-9a-fA-F]{32}$/, 'must be AC followed by 32 hex digits'),
  From: z.string().min(1, 'is required'),
  To: z.string().min(1, 'is required'),
  Body: z.string().default(''),
  NumMedia: count('NumMedia', 0).pipe(z.number().max(MAX_MEDIA, `at most ${MAX_MEDIA}`)),
  NumSegments: count('NumSegments', 1),
  MessagingServiceSid: z.string().optional(),
  FromCountry: z.string().optional(),
  OptOutType: z.string().optional(),
});

export interface InboundMedia {
  readonly url: string;
  readonly contentType: string | null;
}

export interface InboundSms {
  readonly messageSid: string;
  readonly accountSid: string;
  readonly from: string;
  readonly to: string;
  readonly body: string;
  readonly numSegments: number;
  readonly numMedia: number;
  readonly media: readonly InboundMedia[];
  readonly messagingServiceSid: string | null;
  readonly fromCountry: string | null;
  /** Set by Twilio's Advanced Opt-Out (STOP, START, HELP); null with default handling. */
  readonly optOutType: string | null;
}

function mediaOf(values: Record<string, string>, numMedia: number): InboundMedia[] | FieldError {
  const media: InboundMedia[] = [];
  for (let i = 0; i < numMedia; i += 1) {
    const url = values[`MediaUrl${i}`];
    if (!url) return { field: `MediaUrl${i}`, message: `is required when NumMedia is ${numMedia}` };
    media.push({ url, contentType: values[`MediaContentType${i}`] ?? null });
  }
  return media;
}

/** Parses a verified inbound webhook form into a typed message, or lists what is wrong. */
export function parseInbound(params: FormParams): ParseResult<InboundSms> {
  const { values, errors } = flatten(params);
  const parsed = inboundSchema.safeParse(values);
  if (!parsed.success) return { ok: false, errors: [...errors, ...zodErrors(parsed.error.issues)] };
  const v = parsed.data;
  const media = mediaOf(values, v.NumMedia);
  if (!Array.isArray(media)) return { ok: false, errors: [...errors, media] };
  if (errors.length > 0) return { ok: false, errors };
  return {
    ok: true,
    value: {
      messageSid: v.MessageSid,
      accountSid: v.AccountSid,
      from: v.From,
      to: v.To,
      body: v.Body,
      numSegments: v.NumSegments,
      numMedia: v.NumMedia,
      media,
      messagingServiceSid: v.MessagingServiceSid ?? null,
      fromCountry: v.FromCountry ?? null,
      optOutType: v.OptOutType ?? null,
    },
  };
}
