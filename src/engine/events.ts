/** What an engine call (a sprint) asks the runner to do. Effects are data: nothing here acts. */
export type EngineEvent =
  | {
      type: 'msg_created';
      at: string;
      /** Locale keys joined into this one SMS (a turn is one message: SMS order is not kept). */
      keys: string[];
      lang: string;
      text: string;
      encoding: 'GSM-7' | 'UCS-2';
      segments: number;
    }
  | {
      type: 'wait_started';
      at: string;
      wait_id: string;
      kind: 'reply' | 'timer' | 'handoff';
      /** When a `timeout` input is due (reply with timeout, or timer). */
      timeout_at?: string;
      /** When an `expired` input is due (reply waits). */
      expires_at?: string;
    }
  | {
      type: 'answer_recorded';
      at: string;
      question: string;
      value: string;
      score?: number;
      flow_id: string;
    }
  | { type: 'field_changed'; at: string; field: string; value: unknown }
  | { type: 'tag_changed'; at: string; tag: string; added: boolean }
  | {
      type: 'handoff_requested';
      at: string;
      reason: string;
      urgency: 'normal' | 'urgent';
      flow_id: string;
      node: string;
      /** A task for the link worker (a `task` node): the conversation carries on meanwhile. */
      task?: boolean;
    }
  | {
      type: 'referral_requested';
      at: string;
      route: string;
      /** The primary reason code, when known. */
      reason?: string;
      flow_id: string;
    }
  | { type: 'flow_entered'; at: string; flow_id: string; flow_rev: string }
  | {
      type: 'flow_ended';
      at: string;
      flow_id: string;
      status: 'completed' | 'interrupted' | 'expired' | 'failed';
    }
  /** Something the flow survives, e.g. a missing translation filled from a fallback language. */
  | { type: 'error'; at: string; code: string; detail: string }
  /** Something it does not: the session ends and a human takes over. */
  | { type: 'failure'; at: string; code: string; detail: string };

export type EventType = EngineEvent['type'];
