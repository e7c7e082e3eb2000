/** A file `wavebatch init` writes, by path relative to the workload folder. */
export interface ScaffoldFile {
  path: string;
  content: string;
  /** Leave an existing file as it is instead of counting it as a conflict (e.g. .gitignore). */
  keepExisting?: boolean;
}
