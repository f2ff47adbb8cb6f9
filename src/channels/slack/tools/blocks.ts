/** Block Kit pieces for the link worker tools' modals and App Home. */

export type Block = Record<string, unknown>;
export type View = Record<string, unknown>;

export const plain = (text: string) => ({ type: 'plain_text', text, emoji: true });

export const section = (text: string): Block => ({
  type: 'section',
  text: { type: 'mrkdwn', text: text.slice(0, 3000) },
});

export const header = (text: string): Block => ({ type: 'header', text: plain(text) });

export const context = (text: string): Block => ({
  type: 'context',
  elements: [{ type: 'mrkdwn', text: text.slice(0, 3000) }],
});

export const divider = (): Block => ({ type: 'divider' });

export interface Option {
  text: string;
  value: string;
}

/** Slack's option texts are at most 75 characters. */
export const option = (o: Option) => ({ text: plain(o.text.slice(0, 75)), value: o.value });

export function refInput(initial: string | undefined): Block {
  return {
    type: 'input',
    block_id: 'participant',
    label: plain('Participant reference'),
    element: {
      type: 'plain_text_input',
      action_id: 'ref',
      placeholder: plain('P-7K3Q'),
      max_length: 12,
      ...(initial ? { initial_value: initial } : {}),
    },
  };
}

export function modal(
  callbackId: string,
  title: string,
  blocks: Block[],
  o: { submit?: string; metadata?: string } = {},
): View {
  return {
    type: 'modal',
    callback_id: callbackId,
    title: plain(title.slice(0, 24)),
    close: plain(o.submit ? 'Cancel' : 'Close'),
    ...(o.submit ? { submit: plain(o.submit) } : {}),
    ...(o.metadata ? { private_metadata: o.metadata } : {}),
    blocks,
  };
}

/** A modal that only says how it went (after a submission). */
export const resultModal = (title: string, text: string): View =>
  modal('ll_result', title, [section(text)]);

/** `view.state.values` as Bolt gives it. */
export type StateValues = Record<
  string,
  Record<string, { value?: string | null; selected_option?: { value: string } | null }>
>;

export function textValue(values: StateValues | undefined, block: string, action: string) {
  return values?.[block]?.[action]?.value?.trim() ?? '';
}

export function selected(values: StateValues | undefined, block: string, action: string) {
  return values?.[block]?.[action]?.selected_option?.value ?? null;
}
