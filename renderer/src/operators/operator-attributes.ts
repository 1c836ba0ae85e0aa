import type { OperatorAttributes } from '../../../electron/contract';

/** The attributes as the page's text fields hold them: lists comma-separated, an empty field absent. */
export interface AttributeFields {
  team: string;
  installs: string;
  hostLabels: string;
  processes: string;
  hours: string;
}

export const NO_ATTRIBUTES: AttributeFields = { team: '', installs: '', hostLabels: '', processes: '', hours: '' };

export function attributesFromFields(fields: AttributeFields): OperatorAttributes {
  const list = (text: string) =>
    text
      .split(',')
      .map((item) => item.trim())
      .filter((item) => item !== '');
  const attributes: OperatorAttributes = {};
  if (fields.team.trim() !== '') attributes.team = fields.team.trim();
  if (list(fields.installs).length > 0) attributes.installs = list(fields.installs);
  if (list(fields.hostLabels).length > 0) attributes.hostLabels = list(fields.hostLabels);
  if (list(fields.processes).length > 0) attributes.processes = list(fields.processes);
  if (fields.hours.trim() !== '') attributes.hours = fields.hours.trim();
  return attributes;
}

/** One line for the table: `team night · hosts rack=b4 · 08:00-18:00`, or a dash. */
export function describeAttributes(attributes: OperatorAttributes): string {
  const parts = [
    attributes.team !== undefined ? `team ${attributes.team}` : null,
    attributes.installs ? `installs ${attributes.installs.join(', ')}` : null,
    attributes.hostLabels ? `hosts ${attributes.hostLabels.join(', ')}` : null,
    attributes.processes ? `processes ${attributes.processes.join(', ')}` : null,
    attributes.hours !== undefined ? `hours ${attributes.hours}` : null,
  ];
  return parts.filter((part) => part !== null).join(' · ') || '—';
}
