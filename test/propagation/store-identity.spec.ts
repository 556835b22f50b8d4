import { dataSourceOptionsFromUrl } from '../../lib';
import { storeIdentity } from '../../lib/propagation/change-bus.factory';

describe('storeIdentity (the change channel of a store)', () => {
  const id = (url: string) => storeIdentity(dataSourceOptionsFromUrl(url));

  it('is the same for one database and schema, whatever host or port reaches it', () => {
    expect(id('postgres://postgres@127.0.0.1:5432/test?schema=flags')).toBe(id('postgres://app:secret@pgbouncer:6432/test?schema=flags'));
  });

  it('differs between schemas, databases and database kinds', () => {
    const base = id('postgres://postgres@127.0.0.1:5432/test?schema=flags');
    expect(id('postgres://postgres@127.0.0.1:5432/test?schema=other')).not.toBe(base);
    expect(id('postgres://postgres@127.0.0.1:5432/test')).not.toBe(base);
    expect(id('postgres://postgres@127.0.0.1:5432/prod?schema=flags')).not.toBe(base);
    expect(id('mysql://root@127.0.0.1:3306/test')).not.toBe(id('postgres://postgres@127.0.0.1:5432/test'));
  });

  it('is empty for the Redis store, which the prefix identifies', () => {
    expect(storeIdentity(undefined)).toBe('');
  });
});
