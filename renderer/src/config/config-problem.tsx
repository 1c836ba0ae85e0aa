import type { ConfigProblem } from '../../../electron/contract';
import { describeConfigOrigin, describeTextPlace } from './describe-config-origin';

/**
 * Why the configuration is refused, as the install would refuse it: where (the line and
 * column of the text being edited, or the shipped file), which key, why, and what to do.
 */
export function ConfigProblemView({
  problem,
  editedName,
  onReveal,
}: {
  problem: ConfigProblem;
  /** The name of the text in the editor: a problem there can be jumped to. */
  editedName: string;
  onReveal: (line: number, column: number) => void;
}) {
  const { origin } = problem;
  const inEditor = origin !== null && origin.kind !== 'env' && origin.file === editedName && origin.line !== null;
  return (
    <div
      className="notice notice-error"
      role="alert"
      data-testid="config-problem"
      data-code={problem.code}
      data-file={origin?.file ?? ''}
      data-line={origin?.line ?? ''}
      data-column={origin?.column ?? ''}
      data-key={problem.key ?? ''}
    >
      <div className="notice-body">
        <p className="notice-title">
          {origin === null
            ? 'The configuration is refused'
            : inEditor
              ? `${origin.file}, ${describeTextPlace(origin)}`
              : describeConfigOrigin(origin)}
          {problem.key ? <span className="mono tag-field config-problem-key">{problem.key}</span> : null}
        </p>
        <p className="notice-message">{problem.message}</p>
        <p className="notice-remedy">{problem.remedy}</p>
        <p className="notice-code">{problem.code}</p>
      </div>
      {inEditor ? (
        <div className="notice-actions">
          <button type="button" className="button" onClick={() => onReveal(origin.line ?? 1, origin.column ?? 1)}>
            Go to line {origin.line}
          </button>
        </div>
      ) : null}
    </div>
  );
}
