/**
 * Log patterns (`logPatterns`): template mining with Drain (He et al., "Drain: An Online Log Parsing Approach
 * with Fixed Depth Tree", ICWS 2017; parameters as in Drain3). Variable parts are masked first (numbers, ids,
 * addresses, quoted values, durations), and so is a variable glued to a Korean particle or counter (`123이`,
 * `45가`, `kim님`, `3개의`): the particle follows the sound of the value before it, so without this the same
 * line would make one pattern per value shape.
 */
import { parseTimestamp } from './timestamps.js';

export interface LogPattern {
  /** The message's words, variable parts as `<*>`. */
  pattern: string;
  count: number;
  firstSeen: string;
  lastSeen: string;
  /** The newest message of the pattern. */
  sample: string;
}

export interface PatternOptions {
  /** Share of equal words a message needs to join a pattern of its length. Default 0.4. */
  readonly similarity?: number;
  /** Leading words that route a message in the prefix tree (Drain's depth minus 3: Drain3's depth 4 is 1). Default 1. */
  readonly prefixWords?: number;
  /** Children per tree node before new words share the `<*>` branch. Default 100. */
  readonly maxChildren?: number;
  /**
   * Patterns a new message is compared with per tree leaf. Beyond it the least recently matched one stops
   * taking messages (it stays in the answer), which bounds the work on lines that share no pattern.
   * Default 256.
   */
  readonly maxLeafPatterns?: number;
}

export const WILDCARD = '<*>';

const DEFAULTS: Required<PatternOptions> = { similarity: 0.4, prefixWords: 1, maxChildren: 100, maxLeafPatterns: 256 };

/** Masks, in order: wider shapes first, so that an IP is not first taken for numbers. */
const MASKS: readonly RegExp[] = [
  // Quoted values; a quote opens only after a space or a separator, so apostrophes (don't) stay.
  /(?<=^|[\s=:([{,])(?:"(?:[^"\\]|\\.)*"|'[^'\n]*'|“[^”]*”|‘[^’]*’|「[^」]*」)(?=$|[\s,.;:)\]}!?]|[가-힣])/g,
  /\b[a-z][a-z0-9+.-]*:\/\/\S+/gi,
  /\b[\w.+-]+@[\w-]+(?:\.[\w-]+)+\b/g,
  /\b[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}\b/gi,
  /\b\d{1,3}(?:\.\d{1,3}){3}(?::\d{1,5})?\b/g,
  /\b(?:[0-9a-f]{1,4}:){3,7}[0-9a-f]{1,4}\b/gi,
  /\b(?:localhost|[a-z0-9-]+(?:\.[a-z0-9-]+)+):\d{1,5}\b/gi,
  /\b0x[0-9a-f]+\b/gi,
  /\b(?=[0-9a-f]*\d)(?=[0-9a-f]*[a-f])[0-9a-f]{8,}\b/gi,
  /\b\d+(?:\.\d+)?(?:ns|us|µs|ms|s|m|h|d)\b/g,
  /\b\d+(?:\.\d+)?(?:밀리초|초|분|시간|일)(?![가-힣])/g,
  // Not inside a word or a dotted version (v1.2.3, ec2), but after a hyphen (user-42).
  /(?<![\w.])[-+]?\d+(?:[.,]\d+)*\b/g,
];

/**
 * A masked value followed by a Korean counter and/or particle (`<*>개의`, `<*>이`), or a Latin name with an
 * honorific (`kim님이`), then punctuation. Other Latin words keep their particle (`timeout으로`): they are
 * usually the fixed text of the line.
 */
const PARTICLE =
  '(?:에서|에게|께서|한테|으로|로|이나|이랑|랑|보다|처럼|까지|부터|이라|라|이고|이다|입니다|이|가|을|를|은|는|의|에|께|와|과|도|만|나|고)';
const COUNTER = '(?:개월|개|명|건|번|회|차|바이트|원|대|장|줄|주|년|월)';
const GLUED_TO_KOREAN = new RegExp(`^(?:<\\*>${COUNTER}?${PARTICLE}?|[A-Za-z][\\w.-]*(?:님|씨)${PARTICLE}?)[.,!?:;]?$`);

/** The words of a message with its variable parts as `<*>`. */
export function maskMessage(message: string): string[] {
  let masked = message;
  for (const mask of MASKS) masked = masked.replace(mask, WILDCARD);
  return masked
    .split(/\s+/)
    .filter((word) => word !== '')
    .map((word) => (word !== WILDCARD && /[가-힣]/.test(word) && GLUED_TO_KOREAN.test(word) ? WILDCARD : word));
}

interface Cluster {
  words: string[];
  count: number;
  /** When it last took a message, in messages since the start. */
  used: number;
  first: { nanos: bigint; text: string };
  last: { nanos: bigint; text: string };
  sample: string;
}

interface TreeNode {
  children: Map<string, TreeNode>;
  clusters: Cluster[];
}

const newNode = (): TreeNode => ({ children: new Map(), clusters: [] });
const hasDigit = (word: string) => /\d/.test(word);

/**
 * Patterns of `messages` (any order), most frequent first. Each message joins the most similar pattern of the
 * same length under the same leading words, turning the words that differ into `<*>`, or starts a new one.
 */
export function minePatterns(
  messages: readonly { message: string; timestamp: string }[],
  options: PatternOptions = {},
): LogPattern[] {
  const { similarity, prefixWords, maxChildren, maxLeafPatterns } = { ...DEFAULTS, ...options };
  const byLength = new Map<number, TreeNode>();
  const clusters: Cluster[] = [];

  for (const [used, { message, timestamp }] of messages.entries()) {
    const nanos = parseTimestamp(timestamp);
    if (nanos === undefined) throw new TypeError(`not an RFC 3339 timestamp: ${timestamp}`);
    const seen = { nanos, text: timestamp };
    const words = maskMessage(message);
    let root = byLength.get(words.length);
    if (root === undefined) byLength.set(words.length, (root = newNode()));

    const leaf = route(root, words, prefixWords, maxChildren);
    const match = bestMatch(leaf.clusters, words, similarity);
    if (match === undefined) {
      const cluster: Cluster = { words, count: 1, used, first: seen, last: seen, sample: message };
      if (leaf.clusters.length >= maxLeafPatterns) retireLeastRecentlyUsed(leaf.clusters);
      leaf.clusters.push(cluster);
      clusters.push(cluster);
      continue;
    }
    match.count++;
    match.used = used;
    for (let i = 0; i < words.length; i++) if (match.words[i] !== words[i]) match.words[i] = WILDCARD;
    if (nanos < match.first.nanos) match.first = seen;
    if (nanos > match.last.nanos) {
      match.last = seen;
      match.sample = message;
    }
  }

  return [...mergeByPattern(clusters).values()]
    .sort(
      (a, b) =>
        b.count - a.count ||
        (b.last.nanos > a.last.nanos ? 1 : b.last.nanos < a.last.nanos ? -1 : 0) ||
        a.pattern.localeCompare(b.pattern),
    )
    .map((c) => ({
      pattern: c.pattern,
      count: c.count,
      firstSeen: c.first.text,
      lastSeen: c.last.text,
      sample: c.sample,
    }));
}

function retireLeastRecentlyUsed(leaf: Cluster[]): void {
  let oldest = 0;
  for (let i = 1; i < leaf.length; i++) if (leaf[i]!.used < leaf[oldest]!.used) oldest = i;
  leaf.splice(oldest, 1);
}

type Merged = Pick<Cluster, 'count' | 'first' | 'last' | 'sample'> & { pattern: string };

/** Clusters that ended with the same words (a retired one and its successor) are one pattern. */
function mergeByPattern(clusters: Cluster[]): Map<string, Merged> {
  const merged = new Map<string, Merged>();
  for (const c of clusters) {
    const pattern = c.words.join(' ');
    const known = merged.get(pattern);
    if (known === undefined) {
      merged.set(pattern, { pattern, count: c.count, first: c.first, last: c.last, sample: c.sample });
      continue;
    }
    known.count += c.count;
    if (c.first.nanos < known.first.nanos) known.first = c.first;
    if (c.last.nanos > known.last.nanos) {
      known.last = c.last;
      known.sample = c.sample;
    }
  }
  return merged;
}

/**
 * The leaf for a message: down the tree by its leading words, creating nodes as Drain3 does. Words with digits
 * left after masking, and words beyond a full node, share the `<*>` branch.
 */
function route(root: TreeNode, words: string[], prefixWords: number, maxChildren: number): TreeNode {
  let node = root;
  for (const word of words.slice(0, prefixWords)) {
    const key = hasDigit(word) ? WILDCARD : word;
    let child = node.children.get(key);
    if (child === undefined) {
      const wildcard = node.children.get(WILDCARD);
      // A full node keeps its last slot for <*>.
      const room = node.children.size + (wildcard === undefined ? 1 : 0) < maxChildren;
      if (key === WILDCARD || room) node.children.set(key, (child = newNode()));
      else if (wildcard !== undefined) child = wildcard;
      else node.children.set(WILDCARD, (child = newNode()));
    }
    node = child;
  }
  return node;
}

/** The most similar cluster, ties going to the one with more wildcards; undefined below the threshold. */
function bestMatch(clusters: Cluster[], words: string[], threshold: number): Cluster | undefined {
  let best: Cluster | undefined;
  let bestSimilarity = -1;
  let bestWildcards = -1;
  for (const cluster of clusters) {
    let equal = 0;
    let wildcards = 0;
    for (let i = 0; i < words.length; i++) {
      const word = cluster.words[i];
      if (word === WILDCARD) wildcards++;
      else if (word === words[i]) equal++;
    }
    const similarity = words.length === 0 ? 1 : equal / words.length;
    if (similarity > bestSimilarity || (similarity === bestSimilarity && wildcards > bestWildcards)) {
      best = cluster;
      bestSimilarity = similarity;
      bestWildcards = wildcards;
    }
  }
  return best !== undefined && bestSimilarity >= threshold ? best : undefined;
}
