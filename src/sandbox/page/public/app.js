// The sandbox page: phones on the left (the local Twilio), Slack on the right (the local
// Slack), the clock on top. Plain DOM, no build step; it polls the /sandbox API.

const POLL_MS = 700;
const state = {
  phones: [],
  spare: [],
  slackUser: null,
  channel: null,
  slack: null,
  shown: new Map(),
  modalErrors: null,
  homeOpened: new Set(),
};

async function api(path, body) {
  const res = await fetch(path, {
    method: body === undefined ? 'GET' : 'POST',
    headers: body === undefined ? {} : { 'content-type': 'application/json' },
    body: body === undefined ? undefined : JSON.stringify(body),
  });
  const json = await res.json().catch(() => ({}));
  if (!res.ok) {
    const detail = json.errors?.map((e) => `${e.path}: ${e.message}`).join('; ') ?? json.message;
    throw new Error(detail ?? `HTTP ${res.status}`);
  }
  return json;
}

function el(tag, attrs = {}, ...children) {
  const node = document.createElement(tag);
  for (const [key, value] of Object.entries(attrs)) {
    if (value === undefined || value === null || value === false) continue;
    if (key === 'class') node.className = value;
    else if (key.startsWith('on')) node.addEventListener(key.slice(2), value);
    else node.setAttribute(key, value === true ? '' : String(value));
  }
  for (const child of children.flat()) {
    if (child === null || child === undefined || child === false) continue;
    node.append(child instanceof Node ? child : document.createTextNode(String(child)));
  }
  return node;
}

/** Re-renders a container only when its data changed, so typing and focus survive polls. */
function renderIfChanged(key, data, container, render) {
  const json = JSON.stringify(data);
  if (state.shown.get(key) === json) return;
  state.shown.set(key, json);
  container.replaceChildren(...render(data));
}

// ---- clock ----------------------------------------------------------------------------

function showClock(clock) {
  document.getElementById('clock-now').textContent = clock.label;
  const hours = Math.round(clock.offsetMs / 360000) / 10;
  document.getElementById('clock-ahead').textContent =
    clock.offsetMs > 0
      ? `(${hours} h ahead of real time, ${clock.tz})`
      : `(real time, ${clock.tz})`;
  document.getElementById('clock-now').dataset.local = clock.local;
}

async function moveClock(body) {
  const status = document.getElementById('clock-status');
  status.textContent = 'Moving the clock…';
  try {
    const clock = await api('/sandbox/clock', body);
    showClock(clock);
    status.textContent = `Now ${clock.label}: ${clock.due} scheduled item${clock.due === 1 ? '' : 's'} due ran.`;
  } catch (err) {
    status.textContent = err.message;
  }
}

function setUpClock() {
  for (const button of document.querySelectorAll('[data-advance]')) {
    button.addEventListener('click', () => moveClock({ by: button.dataset.advance }));
  }
  document.getElementById('clock-tomorrow').addEventListener('click', () => {
    const local = document.getElementById('clock-now').dataset.local;
    const day = new Date(`${local.slice(0, 10)}T12:00:00Z`);
    day.setUTCDate(day.getUTCDate() + 1);
    moveClock({ to: `${day.toISOString().slice(0, 10)}T10:00` });
  });
  document.getElementById('clock-form').addEventListener('submit', (event) => {
    event.preventDefault();
    const value = document.getElementById('clock-to').value;
    if (value) moveClock({ to: value.slice(0, 16) });
  });
}

// ---- phones ---------------------------------------------------------------------------

function smsBubble(m) {
  const mine = m.direction === 'in';
  const failed = m.status === 'failed' || m.status === 'undelivered';
  const status = mine ? 'sent' : m.status + (m.errorCode ? ` (${m.errorCode})` : '');
  const time = new Date(m.at).toLocaleTimeString([], {
    hour: '2-digit',
    minute: '2-digit',
    hour12: false,
  });
  return el(
    'div',
    {
      class: `sms ${mine ? 'from-me' : 'from-linkline'}${failed ? ' failed' : ''}`,
      'data-sid': m.sid,
      'data-status': m.status,
    },
    el('p', {}, m.body),
    el('small', {}, `${time} · ${status}`),
  );
}

function phonePane(phone) {
  const list = el('div', { class: 'sms-list', 'data-sms-list': phone.phone });
  const input = el('input', {
    name: 'body',
    autocomplete: 'off',
    placeholder: 'Text Linkline…',
    'aria-label': `Message from ${phone.label}`,
  });
  const error = el('div', { class: 'error muted' });
  const form = el(
    'form',
    {
      class: 'sms-form',
      onsubmit: async (event) => {
        event.preventDefault();
        const body = input.value.trim();
        if (!body) return;
        error.textContent = '';
        try {
          await api('/sandbox/sms', { from: phone.phone, body });
          input.value = '';
          await refreshPhone(phone);
        } catch (err) {
          error.textContent = err.message;
        }
      },
    },
    input,
    el('button', { type: 'submit', class: 'primary' }, 'Send'),
  );
  return el(
    'article',
    { class: 'phone', 'data-phone': phone.phone },
    el('div', { class: 'phone-title' }, el('strong', {}, phone.label), el('span', {}, phone.phone)),
    list,
    error,
    form,
  );
}

async function refreshPhone(phone) {
  const list = document.querySelector(`[data-sms-list="${phone.phone}"]`);
  if (!list) return;
  const { messages } = await api(`/sandbox/sms?phone=${encodeURIComponent(phone.phone)}`);
  const atBottom = list.scrollTop + list.clientHeight >= list.scrollHeight - 20;
  renderIfChanged(`sms:${phone.phone}`, messages, list, (ms) =>
    ms.length === 0 ? [el('p', { class: 'muted' }, 'No messages yet.')] : ms.map(smsBubble),
  );
  if (atBottom) list.scrollTop = list.scrollHeight;
}

function addPhone(phone) {
  state.phones.push(phone);
  document.getElementById('phones').append(phonePane(phone));
}

// ---- Slack ----------------------------------------------------------------------------

function slackName(id) {
  return state.slack?.users.find((u) => u.id === id)?.name ?? id;
}

/** Slack's mrkdwn: <@U1>, <url|label>, *bold*, _italic_, ~strike~, `code`, line breaks. */
function mrkdwn(text) {
  const out = [];
  const parts = String(text ?? '').split(/(<[^>]+>)/);
  for (const part of parts) {
    const link = part.match(/^<([^>|]+)(?:\|([^>]+))?>$/);
    if (link) {
      const [, target, label] = link;
      if (target.startsWith('@')) out.push(el('b', {}, `@${slackName(target.slice(1))}`));
      else if (target.startsWith('#')) out.push(el('b', {}, `#${label ?? target.slice(1)}`));
      else if (target.startsWith('!')) out.push(el('b', {}, `@${label ?? target.slice(1)}`));
      else
        out.push(
          el(
            'a',
            { href: target, target: '_blank', rel: 'noopener' },
            unescapeSlack(label ?? target),
          ),
        );
      continue;
    }
    out.push(...inline(unescapeSlack(part)));
  }
  return out;
}

function unescapeSlack(text) {
  return text.replaceAll('&lt;', '<').replaceAll('&gt;', '>').replaceAll('&amp;', '&');
}

function inline(text) {
  const out = [];
  const re = /(\*[^*\n]+\*|_[^_\n]+_|~[^~\n]+~|`[^`\n]+`)/g;
  let last = 0;
  for (const m of text.matchAll(re)) {
    if (m.index > last) out.push(text.slice(last, m.index));
    const inner = m[0].slice(1, -1);
    const tag = { '*': 'b', _: 'i', '~': 's', '`': 'code' }[m[0][0]];
    out.push(el(tag, {}, inner));
    last = m.index + m[0].length;
  }
  if (last < text.length) out.push(text.slice(last));
  return out;
}

function textObject(t) {
  if (!t) return [];
  return t.type === 'mrkdwn' ? mrkdwn(t.text) : [t.text];
}

function element(msg, e) {
  if (e.type === 'button') {
    return el(
      'button',
      {
        type: 'button',
        class: e.style ?? '',
        'data-action-id': e.action_id,
        onclick: (event) => clickButton(msg, e.action_id, event.currentTarget),
      },
      e.text?.text ?? e.action_id,
    );
  }
  const label = e.placeholder?.text ?? e.type;
  return el(
    'button',
    { type: 'button', disabled: true, title: `${e.type} (not in the sandbox)` },
    label,
  );
}

function block(msg, b) {
  switch (b.type) {
    case 'header':
      return el('div', { class: 'block block-header' }, textObject(b.text));
    case 'divider':
      return el('hr', { class: 'block block-divider' });
    case 'context':
      return el(
        'div',
        { class: 'block block-context' },
        (b.elements ?? []).map((c) =>
          c.type === 'image' ? '' : el('span', {}, textObject(c), ' '),
        ),
      );
    case 'actions':
      return el(
        'div',
        { class: 'block block-actions' },
        (b.elements ?? []).map((e) => element(msg, e)),
      );
    case 'section':
      return el(
        'div',
        { class: 'block block-section' },
        b.text ? el('div', {}, textObject(b.text)) : null,
        b.fields
          ? el(
              'div',
              { class: 'block-fields' },
              b.fields.map((f) => el('div', {}, textObject(f))),
            )
          : null,
        b.accessory ? el('div', { class: 'block-actions' }, element(msg, b.accessory)) : null,
      );
    case 'rich_text':
      return null;
    default:
      return el('div', { class: 'block muted' }, `[${b.type} block]`);
  }
}

function slackMessage(channel, m) {
  const blocks = (m.blocks ?? []).map((b) => block({ channel, ts: m.ts }, b)).filter(Boolean);
  const body = blocks.length > 0 ? blocks : [el('div', { class: 'text' }, mrkdwn(m.text))];
  return el(
    'div',
    { class: 'slack-msg', 'data-ts': m.ts },
    el('span', { class: `author${m.isBot ? ' bot' : ''}` }, m.author),
    m.edited ? el('span', { class: 'muted' }, '(edited)') : null,
    ...body,
  );
}

function threadForm(channel, parent) {
  const input = el('input', {
    name: 'reply',
    autocomplete: 'off',
    placeholder: 'Reply in thread…',
    'data-thread-reply': parent.ts,
  });
  const error = el('span', { class: 'error muted' });
  return el(
    'form',
    {
      class: 'thread-form',
      onsubmit: async (event) => {
        event.preventDefault();
        const text = input.value.trim();
        if (!text) return;
        try {
          await api('/sandbox/slack/reply', {
            user: state.slackUser,
            channel,
            threadTs: parent.ts,
            text,
          });
          input.value = '';
          await refreshSlack();
        } catch (err) {
          error.textContent = err.message;
        }
      },
    },
    input,
    el('button', { type: 'submit' }, 'Reply'),
    error,
  );
}

async function clickButton(msg, actionId, button) {
  button.disabled = true;
  try {
    await api('/sandbox/slack/click', {
      user: state.slackUser,
      channel: msg.channel,
      ts: msg.ts,
      actionId,
    });
    await refreshSlack();
  } catch (err) {
    button.disabled = false;
    button.title = err.message;
  }
}

function renderMessages(channel) {
  if (!channel) {
    return [
      el(
        'p',
        { class: 'notice' },
        'No Slack messages yet. Hand-offs and referral notices appear here when Linkline posts them.',
      ),
    ];
  }
  const mine = (state.slack?.ephemerals ?? []).filter(
    (e) => e.channel === channel.id && e.user === state.slackUser && e.via !== 'command_ack',
  );
  const notes = mine.map((e) =>
    el(
      'div',
      { class: 'slack-msg ephemeral' },
      el('span', { class: 'muted' }, 'Only visible to you: '),
      mrkdwn(e.text),
    ),
  );
  const parents = channel.messages.map((m) =>
    el(
      'div',
      { class: 'slack-parent', 'data-parent': m.ts },
      slackMessage(channel.id, m),
      el(
        'div',
        { class: 'thread', 'data-thread': m.ts },
        m.replies.map((r) => slackMessage(channel.id, r)),
        threadForm(channel.id, m),
      ),
    ),
  );
  return [...parents, ...notes];
}

function renderSlack() {
  const { slack } = state;
  const users = document.getElementById('slack-user');
  if (users.options.length === 0) {
    for (const u of slack.users)
      users.append(el('option', { value: u.id }, `${u.name}${u.title ? ` (${u.title})` : ''}`));
    users.value = state.slackUser;
  }
  if (
    state.channel !== HOME &&
    (!state.channel || !slack.channels.some((c) => c.id === state.channel))
  ) {
    state.channel = slack.channels[0]?.id ?? HOME;
  }
  const nav = document.getElementById('slack-channels');
  const channels = [
    { id: HOME, name: '🏠 Linkline: Home', current: state.channel === HOME },
    ...slack.channels.map((c) => ({ id: c.id, name: c.name, current: c.id === state.channel })),
  ];
  renderIfChanged('slack:nav', channels, nav, (list) =>
    list.length === 0
      ? [el('p', { class: 'empty' }, 'No conversations yet')]
      : list.map((c) =>
          el(
            'button',
            {
              type: 'button',
              'data-channel': c.id,
              'aria-current': c.current ? 'true' : 'false',
              onclick: () => {
                state.channel = c.id;
                if (c.id === HOME) state.homeOpened.clear();
                renderSlack();
              },
            },
            c.name,
          ),
        ),
  );
  const channel = slack.channels.find((c) => c.id === state.channel) ?? null;
  const list = document.getElementById('slack-messages');
  if (state.channel === HOME) {
    const home = slack.homes.find((h) => h.user === state.slackUser) ?? null;
    // Opening the tab is what makes Slack send app_home_opened: once per person shown.
    if (!state.homeOpened.has(state.slackUser)) {
      state.homeOpened.add(state.slackUser);
      openHome();
    }
    renderIfChanged('slack:messages', { home, user: state.slackUser }, list, () =>
      renderHome(home),
    );
  } else
    renderIfChanged(
      'slack:messages',
      { channel, user: state.slackUser, eph: slack.ephemerals },
      list,
      () => renderMessages(channel),
    );
  const acks = slack.ephemerals
    .filter((e) => e.user === state.slackUser && e.via === 'command_ack')
    .slice(-3);
  renderIfChanged('slack:acks', acks, document.getElementById('slack-acks'), (list) =>
    list.map((e) =>
      el(
        'div',
        { class: 'slack-msg ephemeral' },
        el('span', { class: 'muted' }, 'Only visible to you: '),
        ...(e.blocks?.length
          ? e.blocks.map((b) => block({}, b)).filter(Boolean)
          : [el('div', {}, mrkdwn(e.text))]),
      ),
    ),
  );
  const modal = slack.modals.find((m) => m.user === state.slackUser) ?? null;
  renderIfChanged(
    'slack:modal',
    modal ? { id: modal.id, hash: modal.hash, errors: state.modalErrors } : null,
    document.getElementById('slack-modal'),
    () => (modal ? renderModal(modal) : []),
  );
}

// ---- App Home, /linkline and modals ------------------------------------------------------

const HOME = 'home';

async function openHome() {
  try {
    await api('/sandbox/slack/home', { user: state.slackUser });
    await refreshSlack();
  } catch (err) {
    document
      .getElementById('slack-messages')
      .replaceChildren(el('p', { class: 'notice' }, err.message));
  }
}

function renderHome(home) {
  if (!home) return [el('p', { class: 'notice' }, 'Opening the Home tab…')];
  return [
    el(
      'div',
      { class: 'slack-home', 'data-home': home.user },
      home.blocks.map((b) => block({}, b)).filter(Boolean),
    ),
  ];
}

function composer() {
  const input = el('input', {
    name: 'command',
    autocomplete: 'off',
    placeholder: '/linkline help',
    'data-composer': true,
  });
  const error = el('span', { class: 'error muted' });
  return el(
    'form',
    {
      class: 'composer',
      onsubmit: async (event) => {
        event.preventDefault();
        const text = input.value.trim();
        if (!text) return;
        error.textContent = '';
        try {
          await api('/sandbox/slack/command', {
            user: state.slackUser,
            ...(state.channel && state.channel !== HOME ? { channel: state.channel } : {}),
            text,
          });
          input.value = '';
          await refreshSlack();
        } catch (err) {
          error.textContent = err.message;
        }
      },
    },
    input,
    el('button', { type: 'submit' }, 'Send'),
    error,
  );
}

/** The input blocks of a modal as form fields; a dispatch_action select tells Linkline at once. */
function modalInput(view, b) {
  const e = b.element ?? {};
  const id = `${b.block_id}.${e.action_id}`;
  let field;
  if (e.type === 'static_select') {
    field = el(
      'select',
      {
        'data-field': id,
        'data-kind': 'option',
        onchange: b.dispatch_action
          ? async (event) => {
              await api('/sandbox/slack/view/select', {
                user: state.slackUser,
                viewId: view.id,
                actionId: e.action_id,
                value: event.target.value,
                values: formValues(event.target.form),
              }).catch(() => undefined);
              await refreshSlack();
            }
          : undefined,
      },
      el('option', { value: '' }, e.placeholder?.text ?? 'Choose…'),
      (e.options ?? []).map((o) =>
        el(
          'option',
          { value: o.value, selected: e.initial_option?.value === o.value },
          o.text.text,
        ),
      ),
    );
  } else {
    field = el('input', {
      'data-field': id,
      'data-kind': 'text',
      value: e.initial_value ?? '',
      placeholder: e.placeholder?.text ?? '',
      autocomplete: 'off',
    });
  }
  const error = state.modalErrors?.[b.block_id];
  return el(
    'label',
    { class: 'block block-input' },
    el('span', { class: 'label' }, b.label?.text ?? b.block_id),
    field,
    error ? el('span', { class: 'error' }, error) : null,
  );
}

/** What the user entered in a modal, as the sandbox API takes it. */
function formValues(form) {
  const values = {};
  for (const f of form?.querySelectorAll('[data-field]') ?? []) {
    const [blockId, actionId] = f.dataset.field.split('.');
    if (f.dataset.kind === 'option' && f.value === '') continue;
    values[blockId] ??= {};
    values[blockId][actionId] =
      f.dataset.kind === 'option' ? { option: f.value } : { text: f.value };
  }
  return values;
}

function renderModal(view) {
  const form = el(
    'form',
    {
      class: 'slack-modal',
      'data-view': view.id,
      onsubmit: async (event) => {
        event.preventDefault();
        const values = formValues(form);
        const out = await api('/sandbox/slack/view/submit', {
          user: state.slackUser,
          viewId: view.id,
          values,
        }).catch((err) => ({ outcome: 'failed', errors: { '': err.message } }));
        state.modalErrors =
          out.outcome === 'errors' || out.outcome === 'failed' ? out.errors : null;
        state.shown.delete('slack:modal');
        await refreshSlack();
      },
    },
    el('div', { class: 'modal-title' }, view.title ?? ''),
    view.blocks
      .map((b) => (b.type === 'input' ? modalInput(view, b) : block({}, b)))
      .filter(Boolean),
    state.modalErrors?.[''] ? el('p', { class: 'error' }, state.modalErrors['']) : null,
    el(
      'div',
      { class: 'modal-buttons' },
      el(
        'button',
        {
          type: 'button',
          onclick: async () => {
            state.modalErrors = null;
            await api('/sandbox/slack/view/close', {
              user: state.slackUser,
              viewId: view.id,
            }).catch(() => undefined);
            await refreshSlack();
          },
        },
        view.submit ? 'Cancel' : 'Close',
      ),
      view.submit ? el('button', { type: 'submit', class: 'primary' }, view.submit) : null,
    ),
  );
  return [el('div', { class: 'modal-backdrop' }, form)];
}

async function refreshSlack() {
  try {
    state.slack = await api('/sandbox/slack');
  } catch (err) {
    document
      .getElementById('slack-messages')
      .replaceChildren(el('p', { class: 'notice' }, err.message));
    return;
  }
  state.slackUser ??= state.slack.users[0]?.id ?? null;
  renderSlack();
}

// ---- start ----------------------------------------------------------------------------

async function poll() {
  try {
    const clock = await api('/sandbox/clock');
    showClock(clock);
    await Promise.all(state.phones.map(refreshPhone));
    await refreshSlack();
  } finally {
    setTimeout(poll, POLL_MS);
  }
}

async function start() {
  const initial = await api('/sandbox/state');
  showClock(initial.clock);
  setUpClock();
  state.spare = [...initial.spareNumbers];
  for (const phone of initial.phones) addPhone(phone);
  document.getElementById('add-phone').addEventListener('click', () => {
    const number = state.spare.shift();
    if (!number) return;
    addPhone({ phone: number, label: `Person ${state.phones.length}`, role: 'participant' });
    if (state.spare.length === 0) document.getElementById('add-phone').disabled = true;
  });
  document.getElementById('slack-user').addEventListener('change', (event) => {
    state.slackUser = event.target.value;
    state.modalErrors = null;
    renderSlack();
  });
  document.getElementById('slack-compose').replaceChildren(composer());
  if (!initial.twilio) {
    document
      .getElementById('phones')
      .prepend(
        el(
          'p',
          { class: 'notice' },
          'SMS go to a local Twilio outside this process (TWILIO_API_URL): phones are off.',
        ),
      );
  }
  await poll();
}

start();
