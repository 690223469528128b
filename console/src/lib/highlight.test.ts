import { describe, expect, it } from 'vitest';
import { highlightSegments } from './highlight.js';

describe('a highlight fragment as text to show', () => {
  it('marks the words between <em> tags and keeps the rest as text', () => {
    expect(highlightSegments('데이터베이스 <em>연결</em>이 <em>실패</em>했습니다')).toEqual([
      { text: '데이터베이스 ', match: false },
      { text: '연결', match: true },
      { text: '이 ', match: false },
      { text: '실패', match: true },
      { text: '했습니다', match: false },
    ]);
  });

  it('decodes what the html encoder escaped, so markup in a message is shown as the words it is', () => {
    expect(
      highlightSegments('&lt;script&gt;alert(&quot;x&quot;)&lt;&#x2F;script&gt; <em>failed</em> &amp; &#39;ok&#39;'),
    ).toEqual([
      { text: '<script>alert("x")</script> ', match: false },
      { text: 'failed', match: true },
      { text: " & 'ok'", match: false },
    ]);
  });

  it('leaves an entity it does not know as it is', () => {
    expect(highlightSegments('&nosuch; &#x110000;')).toEqual([{ text: '&nosuch; &#x110000;', match: false }]);
  });
});
