/** Which chains `assemblyStates` returns: paged in chain order, or the ones named. */
export interface AssemblyStateFilter {
  /** Mixed into every state: what else the documents depend on (the assembly settings). */
  salt: string;
  /** Only these chains. */
  chainIds?: readonly string[];
  /** Keyset paging: only chains after this one. */
  afterChain?: string;
  limit: number;
}

/** A chain's assembled-document state now, and whether its document was written from another. */
export interface AssemblyState {
  chainId: string;
  /** A digest of the salt and of everything about the chain's records its document shows. */
  state: string;
  changed: boolean;
}

/**
 * Where the state each chain's document was last written from is kept (the store): a run's start
 * compares it with the records' state now and rebuilds only the chains that changed.
 */
export interface AssemblyStateStore {
  /**
   * Chains with at least one done record, in chain order, each with the state its document would be
   * written from now and whether that differs from the one last saved for it. Reads the records,
   * never the outputs: a start finds the few documents to rebuild without reading them all.
   */
  assemblyStates(filter: AssemblyStateFilter): Promise<AssemblyState[]>;
  /** Saves the states chains' documents were written from. */
  saveAssemblyStates(states: readonly AssemblyState[]): Promise<void>;
}
