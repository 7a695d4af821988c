/** The lazily loaded command sets (vmodem start) are exactly those of the registry. */
import { describe, expect, it } from 'vitest';
import { COMMAND_SET_LOADERS, loadCommandSets } from '../../src/vendors/load-command-sets.js';
import { COMMAND_SETS } from '../../src/vendors/registry.js';

describe('command sets loaded on demand', () => {
  it('have a loader for every set of the registry, and each loads the registry\'s own set', async () => {
    expect(Object.keys(COMMAND_SET_LOADERS).sort()).toEqual(Object.keys(COMMAND_SETS).sort());
    for (const [id, load] of Object.entries(COMMAND_SET_LOADERS)) expect(await load(), id).toBe(COMMAND_SETS[id]);
  });

  it('give common plus the sets asked for, and leave out an id nobody knows (the modem names it)', async () => {
    const sets = await loadCommandSets(['cellular', 'quectel-qmt-ec200', 'no-such-set', 'cellular']);
    expect(Object.keys(sets).sort()).toEqual(['cellular', 'common', 'quectel-qmt-ec200']);
    expect(sets['quectel-qmt-ec200']).toBe(COMMAND_SETS['quectel-qmt-ec200']);
  });
});
