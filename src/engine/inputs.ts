/** What resumes a waiting session. Timer inputs carry the wait id they were scheduled for. */
export type EngineInput =
  | { type: 'msg'; text: string }
  | { type: 'timeout'; wait_id: string }
  | { type: 'expired'; wait_id: string }
  /** A human handed the conversation back (`resume: true`) or closed it. */
  | { type: 'handoff_closed'; resume: boolean; node?: string };
