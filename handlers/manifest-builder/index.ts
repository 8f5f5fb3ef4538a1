// Entry point of the manifest builder Lambda. Not implemented yet: the stack needs the file to exist to build.
export const handler = async (): Promise<never> => {
  throw new Error('manifest builder: not implemented yet');
};
