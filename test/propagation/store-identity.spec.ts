import { dataSourceOptionsFromUrl } from '../../lib/storage/typeorm/connection';
import { createChangeBus, storeIdentity } from '../../lib/propagation/change-bus.factory';
import { resolveOptions } from '../../lib/feature-flags.options';

describe('storeIdentity (the change channel of a store)', () => {
  const id = (url: string) => storeIdentity(dataSourceOptionsFromUrl(url));

  it('is the same for one database and schema, whatever host or port reaches it', () => {
    expect(id('postgres://postgres@127.0.0.1:5432/test?schema=flags')).toBe(
      id('postgres://app:secret@pgbouncer:6432/test?schema=flags'),
    );
  });

  it('differs between schemas, databases and database kinds', () => {
    const base = id('postgres://postgres@127.0.0.1:5432/test?schema=flags');
    expect(id('postgres://postgres@127.0.0.1:5432/test?schema=other')).not.toBe(base);
    expect(id('postgres://postgres@127.0.0.1:5432/test')).not.toBe(base);
    expect(id('postgres://postgres@127.0.0.1:5432/prod?schema=flags')).not.toBe(base);
    expect(id('mysql://root@127.0.0.1:3306/test')).not.toBe(id('postgres://postgres@127.0.0.1:5432/test'));
  });

  it('is empty for a store the module cannot see into (a custom storage)', () => {
    expect(storeIdentity(undefined)).toBe('');
  });

  it('tells Redis stores on different database numbers apart (pub/sub is shared by every database of a server)', () => {
    const db = (connection: string | { db?: number }) => storeIdentity(undefined, connection);
    expect(db('redis://127.0.0.1:6379/3')).not.toBe(db('redis://127.0.0.1:6379/4'));
    expect(db('redis://127.0.0.1:6379/3')).toBe(db('redis://other-host:6380/3'));
    expect(db('redis://127.0.0.1:6379')).toBe(db('redis://127.0.0.1:6379/0'));
    expect(db({ db: 3 })).toBe(db('redis://127.0.0.1:6379/3'));
    expect(db({})).toBe(db('redis://127.0.0.1:6379/0'));
  });

  it('gives two Redis stores with one prefix on different databases different change channels', () => {
    const channel = (redis: string): string => {
      const bus = createChangeBus(
        resolveOptions({ backend: 'redis', redis, redisPrefix: 'same:' }),
        undefined,
      ) as unknown as { channel: string };
      return bus.channel;
    };
    expect(channel('redis://127.0.0.1:6379/3')).toMatch(/^same:changes:[0-9a-f]{12}$/);
    expect(channel('redis://127.0.0.1:6379/3')).not.toBe(channel('redis://127.0.0.1:6379/5'));
  });
});
