/** Sandbox mode's page, API, clock and demo seed (never loaded in production mode). */
export { ClockBackwards, createSandboxClock, type SandboxClock } from './clock.js';
export { fireDue } from './fire-due.js';
export { type SandboxRuntime, startSandbox } from './runtime.js';
export { DEMO_LINK_WORKERS, DEMO_PHONES, demoDoc, seedDemo } from './seed.js';
