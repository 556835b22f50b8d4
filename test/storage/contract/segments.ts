import { AlreadyExistsError, NotFoundError, VersionConflictError } from '../../../lib/core';
import { FeatureFlagStorage } from '../../../lib/storage/feature-flag-storage.interface';
import { ContractContext, expectInvalid } from './support';

/** Segments. */
export function segmentsContract(context: ContractContext): void {
  let storage: FeatureFlagStorage;
  beforeEach(() => {
    ({ storage } = context);
  });

  describe('segments', () => {
    const beta = [{ attribute: 'beta', operator: 'eq' as const, value: true }];

    it('creates, reads, lists, updates and deletes segments', async () => {
      const segment = await storage.createSegment({ key: 'beta-testers', conditions: beta });
      expect(segment).toMatchObject({
        key: 'beta-testers',
        name: 'beta-testers',
        description: null,
        conditions: beta,
        parentId: null,
        version: 1,
      });
      expect(await storage.getSegment('beta-testers')).toEqual(segment);
      expect(await storage.listSegments()).toEqual([segment]);
      const child = await storage.createSegment({
        key: 'french-beta',
        name: 'French beta',
        conditions: [{ attribute: 'country', operator: 'eq', value: 'FR' }],
        parentId: segment.id,
      });
      expect((await storage.getSegment('french-beta'))!.parentId).toBe(segment.id);
      const updated = await storage.updateSegment({ key: 'french-beta', conditions: [], description: 'All of beta' });
      expect(updated).toMatchObject({ conditions: [], description: 'All of beta', version: 2 });
      expect(updated.createdAt).toEqual(child.createdAt);
      const renamed = await storage.updateSegment({ id: segment.id, key: 'beta' });
      expect(await storage.getSegment('beta')).toEqual(renamed);
      expect(await storage.getSegment('beta-testers')).toBeNull();
      expect(await storage.deleteSegment('french-beta')).toBe(true);
      expect(await storage.deleteSegment('french-beta')).toBe(false);
      expect(await storage.listSegments()).toEqual([renamed]);
    });

    it('refuses invalid segments, duplicates and unknown parents', async () => {
      await expectInvalid(storage.createSegment({ key: 'Bad Key', conditions: [] }), 'key');
      await expectInvalid(
        storage.createSegment({ key: 'op', conditions: [{ attribute: 'a', operator: 'between' as never }] }),
        'conditions[0]',
      );
      await expectInvalid(storage.createSegment({ key: 'named', name: 's'.repeat(256), conditions: [] }), 'name');
      const segment = await storage.createSegment({ key: 'beta', conditions: beta });
      await expect(storage.createSegment({ key: 'beta', conditions: [] })).rejects.toBeInstanceOf(AlreadyExistsError);
      await expect(storage.createSegment({ id: segment.id, key: 'other', conditions: [] })).rejects.toBeInstanceOf(
        AlreadyExistsError,
      );
      await expect(
        storage.createSegment({ key: 'orphan', conditions: [], parentId: 'missing' }),
      ).rejects.toBeInstanceOf(NotFoundError);
      await expect(storage.updateSegment({ key: 'beta', parentId: 'missing' })).rejects.toBeInstanceOf(NotFoundError);
      await expect(storage.updateSegment({ key: 'missing', conditions: [] })).rejects.toBeInstanceOf(NotFoundError);
      await expect(storage.updateSegment({ key: 'beta', version: 7, conditions: [] })).rejects.toBeInstanceOf(
        VersionConflictError,
      );
      await storage.createSegment({ key: 'gamma', conditions: [] });
      // An object whose `id` is present but undefined (an entity built with `new Segment({...})`) is found by key.
      await expect(
        storage.updateSegment({ id: undefined as never, key: 'gamma', name: 'Gamma' }),
      ).resolves.toMatchObject({ name: 'Gamma', version: 2 });
      await expect(storage.updateSegment({ id: segment.id, key: 'gamma' })).rejects.toBeInstanceOf(AlreadyExistsError);
      expect(await storage.listSegments()).toHaveLength(2);
      expect(await storage.getSegment('beta')).toEqual(segment);
    });

    it('leaves a child segment pointing at a deleted parent (it then matches no one)', async () => {
      const parent = await storage.createSegment({ key: 'beta', conditions: beta });
      await storage.createSegment({ key: 'child', conditions: [], parentId: parent.id });
      expect(await storage.deleteSegment('beta')).toBe(true);
      expect((await storage.getSegment('child'))!.parentId).toBe(parent.id);
    });
  });
}
