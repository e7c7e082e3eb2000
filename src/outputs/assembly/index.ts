/** Assembled documents: one per chain, its records' outputs in position order (`outputs.assemble`). */
export {
  ChainAssembler,
  type AssemblySettings,
  type ChainMember,
  type ChainRecordSource,
} from './chain-assembler.js';
export type { AssemblyState, AssemblyStateFilter, AssemblyStateStore } from './assembly-state.js';
export { chainDocumentPath } from './document-path.js';
export { renderJsonl, renderMarkdown, type AssemblyEntry, type MarkdownOptions } from './render.js';
