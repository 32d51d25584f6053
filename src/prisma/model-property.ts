/**
 * Prisma's naming rule for a model's client property: the model name with
 * its first letter lower-cased (`User` -> `prisma.user`). Query hooks and
 * result fields of extensions are looked up under the same name.
 */
export function modelProperty(model: string): string {
  return model.charAt(0).toLowerCase() + model.slice(1);
}
