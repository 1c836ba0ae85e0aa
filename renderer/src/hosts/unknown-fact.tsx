import type { HostFacts, UnknownFact } from '../../../electron/contract';

/** The probe's reasons for what it could not read in one section (`cpu`, `cpu.speed`, `privilege.sudo`, …). */
export function unknownsFor(facts: HostFacts, section: string): UnknownFact[] {
  return facts.unknown.filter((u) => u.field === section || u.field.startsWith(`${section}.`));
}

/** A fact the probe could not read, with its reasons; `inline` for a value cell rather than a card body. */
export function Unknown({ facts, section, inline = false }: { facts: HostFacts; section: string; inline?: boolean }) {
  const reasons = unknownsFor(facts, section);
  const Tag = inline ? 'span' : 'p';
  if (reasons.length === 0) return <Tag className="unknown">unknown: the probe did not report this</Tag>;
  return (
    <>
      {reasons.map((u) => (
        <Tag key={u.field} className={inline ? 'unknown unknown-inline' : 'unknown'}>
          unknown: {u.reason}
        </Tag>
      ))}
    </>
  );
}
