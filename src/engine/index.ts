/** The conversation engine: a pure library. (flow, session, input, env) -> (session', events). */
export { resume, type SprintResult, start } from './engine.js';
export type { Env, Trigger } from './env.js';
export type { EngineEvent, EventType } from './events.js';
export type { AskNode, Flow, FlowNode, NodeOf, NodeType } from './flow-schema.js';
export { fallbackChain, placeholders, render } from './i18n.js';
export type { EngineInput } from './inputs.js';
export type { Locale, LocaleSet } from './locale-schema.js';
export { NOT_UNDERSTOOD_KEY } from './nodes/ask.js';
export { type Problem, parseFlowSource, parseLocaleSource, Source } from './parse.js';
export { isSkip, matchChoice, matchNumber, matchYesNo, type ReplyMatch } from './reply.js';
export { type Session, sessionSchema } from './session.js';
export { type SmsCost, smsCost } from './sms.js';
export { normalize } from './text.js';
export * from './validate/index.js';
