import { describe, expect, it } from 'vitest';
import { actorOf } from './request-actor.js';

describe('who made a change', () => {
  it('is the verified caller when there is one, else what the request says, else unknown', () => {
    expect(actorOf({ caller: { subject: 'user:alice' } })).toBe('user:alice');
    expect(actorOf({})).toBe('unknown');
  });
});
