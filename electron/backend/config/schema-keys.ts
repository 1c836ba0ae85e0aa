import { z } from 'zod';

export type ConfigPath = readonly (string | number)[];

/**
 * The same strict objects with every key optional, at any depth: what a single layer is
 * checked against, since only the merged result must set every key.
 */
export function optionalAtAnyDepth(schema: z.ZodType): z.ZodType {
  if (!(schema instanceof z.ZodObject)) return schema;
  const shape = Object.fromEntries(
    Object.entries(schema.shape as Record<string, z.ZodType>).map(([key, value]) => [key, optionalAtAnyDepth(value).optional()]),
  );
  return z.strictObject(shape);
}

/** The keys the object at `path` allows, or undefined when there is no object there. */
export function keysAt(schema: z.ZodType, path: ConfigPath): string[] | undefined {
  const node = schemaAt(schema, path);
  return node instanceof z.ZodObject ? Object.keys(node.shape as Record<string, unknown>) : undefined;
}

/** The schema of the key at `path`, or undefined when no such key exists. */
export function schemaAt(schema: z.ZodType, path: ConfigPath): z.ZodType | undefined {
  let node: z.ZodType | undefined = schema;
  for (const segment of path) {
    if (!(node instanceof z.ZodObject)) return undefined;
    const shape = node.shape as Record<string, z.ZodType>;
    node = Object.hasOwn(shape, String(segment)) ? shape[String(segment)] : undefined;
  }
  return node;
}

/** Every leaf key (a value that is not an object of keys), in schema order, as dotted paths. */
export function leafPaths(schema: z.ZodType, prefix: string[] = []): string[][] {
  if (!(schema instanceof z.ZodObject)) return [prefix];
  return Object.entries(schema.shape as Record<string, z.ZodType>).flatMap(([key, value]) => leafPaths(value, [...prefix, key]));
}
