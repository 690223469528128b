/**
 * A search hit's highlight as text to show: Elasticsearch's html encoder escapes the message and wraps the matched
 * words in `<em>`…`</em>`. Only those two tags mean anything; the rest is decoded back to the message's own text,
 * which the view renders as text (a `<script>` in a message stays words on the screen).
 */

export interface Segment {
  readonly text: string;
  readonly match: boolean;
}

const NAMED: Readonly<Record<string, string>> = { lt: '<', gt: '>', amp: '&', quot: '"', apos: "'" };

export function decodeEntities(text: string): string {
  return text.replace(/&(#x[0-9a-f]+|#[0-9]+|[a-z]+);/gi, (whole, name: string) => {
    if (name.startsWith('#')) {
      const code = name[1] === 'x' || name[1] === 'X' ? parseInt(name.slice(2), 16) : parseInt(name.slice(1), 10);
      return Number.isInteger(code) && code >= 0 && code <= 0x10ffff ? String.fromCodePoint(code) : whole;
    }
    return NAMED[name.toLowerCase()] ?? whole;
  });
}

export function highlightSegments(fragment: string): Segment[] {
  const segments: Segment[] = [];
  let match = false;
  for (const part of fragment.split(/(<\/?em>)/)) {
    if (part === '<em>') match = true;
    else if (part === '</em>') match = false;
    else if (part !== '') segments.push({ text: decodeEntities(part), match });
  }
  return segments;
}
