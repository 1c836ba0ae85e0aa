import { Fragment } from 'react';

/** A configuration key that, when it must wrap, wraps after a dot rather than inside a word. */
export function DottedKey({ path }: { path: string }) {
  return (
    <>
      {path.split('.').map((part, index) => (
        <Fragment key={index}>
          {index > 0 ? (
            <>
              .<wbr />
            </>
          ) : null}
          {part}
        </Fragment>
      ))}
    </>
  );
}
