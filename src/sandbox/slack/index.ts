/** A faithful local Slack (Web API, response_urls, signed requests to the app) for tests. */

export type { AppEndpoints, EchoMode, EventDelivery, EventOptions } from './app-link.js';
export type { CallRecord } from './context.js';
export type { AppDelivery, FailureReason, Forgery, SignOptions } from './deliver.js';
export {
  SANDBOX_BOT_TOKEN,
  SANDBOX_SIGNING_SECRET,
  type SlackFakeOptions,
  startSlackFake,
} from './fake.js';
export type { ChannelRateLimit, Fault, FaultKind } from './faults.js';
export type { ActionDelivery, ActionInput, ActionSpec, ClickInput } from './interactions.js';
export { DEFAULT_BOT_SCOPES } from './methods.js';
export {
  type CommandInput,
  datePicker,
  staticSelect,
  textInput,
  type ViewStateValues,
} from './payloads.js';
export type { UserPost, UserPostInput } from './people.js';
export type { ResponseTarget, ResponseUrlRecord } from './response-urls.js';
export { slackSignature, slackTimestamp } from './signature.js';
export type { SlackFake } from './slack-facade.js';
export {
  type AckRecord,
  type DisconnectReason,
  type EnvelopeRecord,
  type EnvelopeType,
  SANDBOX_APP_TOKEN,
  SocketModeHub,
} from './socket-mode.js';
export type { EphemeralRecord, FakeSlackMessage, MessageMetadata } from './store.js';
export type {
  CommandDelivery,
  ViewOutcome,
  ViewSubmissionDelivery,
  ViewSubmissionInput,
} from './submissions.js';
export type { FakeView } from './views.js';
export {
  type BotSpec,
  SANDBOX_BOT,
  SANDBOX_CHANNELS,
  SANDBOX_TEAM,
  SANDBOX_USERS,
  type SlackChannelSpec,
  type SlackUserSpec,
  type TeamSpec,
} from './workspace.js';
