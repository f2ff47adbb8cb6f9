/** A faithful local Twilio Messaging API for tests, benchmarks and the sandbox demo. */

export { startTwilioFake, type TwilioFake, type TwilioFakeOptions } from './fake.js';
export type { Fault, FaultKind, FaultOp } from './faults.js';
export type { InboundDelivery, InboundInput } from './inbound.js';
export { inboundParams, optOutKeyword } from './inbound.js';
export type { CallbackRecord } from './lifecycle.js';
export type { WebhookReply } from './post-form.js';
export type { RequestRecord } from './server.js';
export { type FormParams, twilioSignature } from './signature.js';
export type { FakeDirection, FakeMessage, FakeStatus } from './store.js';
