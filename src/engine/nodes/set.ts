import { refValue } from '../expr.js';
import type { NodeOf } from '../flow-schema.js';
import { emit, type Sprint, type Step } from '../sprint.js';

function setField(sprint: Sprint, field: string, value: unknown): void {
  const { participant } = sprint.session.context;
  const [scope, name = ''] = field.split('.');
  if (scope === 'fields') participant.fields[name] = value;
  else participant[name] = value;
  // A language chosen in the conversation applies from the next message on.
  if (
    field === 'participant.preferred_lang' &&
    typeof value === 'string' &&
    sprint.env.locales[value]
  ) {
    sprint.session.lang = value;
  }
  emit(sprint, { type: 'field_changed', field, value });
}

function setTag(sprint: Sprint, tag: string, added: boolean): void {
  const { participant } = sprint.session.context;
  const has = participant.tags.includes(tag);
  if (has === added) return;
  participant.tags = added ? [...participant.tags, tag] : participant.tags.filter((t) => t !== tag);
  emit(sprint, { type: 'tag_changed', tag, added });
}

export function set(node: NodeOf<'set'>, sprint: Sprint): Step {
  // A value that is absent (e.g. a skipped answer) changes nothing: it never wipes what is known.
  const value = node.value === undefined ? undefined : refValue(sprint.session, node.value);
  if (node.field !== undefined && value !== undefined && value !== null)
    setField(sprint, node.field, value);
  if (node.tag !== undefined) setTag(sprint, node.tag, true);
  if (node.untag !== undefined) setTag(sprint, node.untag, false);
  return { kind: 'next', node: node.next };
}
