import { PostgresChangeBus } from '../../lib/propagation/postgres-change-bus';
import { SERVICE_URLS, describeWithService } from '../support/services';
import { waitFor } from '../support/tcp-proxy';

describeWithService('postgres', 'PostgresChangeBus', () => {
  const channel = `ff_bus_test_${process.pid}_${Date.now().toString(36)}`;
  let listener: PostgresChangeBus;
  let publisher: PostgresChangeBus;

  afterEach(async () => {
    await Promise.all([listener?.close(), publisher?.close()]);
  });

  it('delivers concurrent publishes in order, over one publishing connection', async () => {
    const received: string[] = [];
    listener = new PostgresChangeBus({ connectionString: SERVICE_URLS.postgres }, channel);
    await listener.start((payload) => received.push(payload));
    publisher = new PostgresChangeBus({ connectionString: SERVICE_URLS.postgres }, channel);
    const connects: boolean[] = [];
    const bus = publisher as unknown as { connect: (listen: boolean) => Promise<unknown> };
    const connect = bus.connect.bind(publisher);
    bus.connect = (listen: boolean) => {
      connects.push(listen);
      return connect(listen);
    };

    const payloads = Array.from({ length: 40 }, (_, i) => `change ${i}`);
    // Issued together, as concurrent writes issue them, before the publishing connection exists.
    await Promise.all(payloads.map((p) => publisher.publish(p)));
    await waitFor(() => received.length === payloads.length);

    expect(received).toEqual(payloads);
    expect(connects).toEqual([false]);
  });

  it('a failed publish does not stop the ones after it', async () => {
    const received: string[] = [];
    listener = new PostgresChangeBus({ connectionString: SERVICE_URLS.postgres }, channel);
    await listener.start((payload) => received.push(payload));
    publisher = new PostgresChangeBus({ connectionString: SERVICE_URLS.postgres }, channel);

    // NOTIFY refuses payloads of 8000 bytes or more.
    const results = await Promise.allSettled([
      publisher.publish('before'),
      publisher.publish('x'.repeat(9000)),
      publisher.publish('after'),
    ]);
    expect(results.map((r) => r.status)).toEqual(['fulfilled', 'rejected', 'fulfilled']);
    await waitFor(() => received.length === 2);
    expect(received).toEqual(['before', 'after']);
  });

  it('closes with publishes in flight or queued: they end without an error and leave no connection open', async () => {
    publisher = new PostgresChangeBus({ connectionString: SERVICE_URLS.postgres }, channel);
    const state = publisher as unknown as { publisher?: unknown };
    // Closed while the publishing connection is being opened…
    const whileConnecting = Promise.all(Array.from({ length: 5 }, (_, i) => publisher.publish(`early ${i}`)));
    await publisher.close();
    await expect(whileConnecting).resolves.toBeDefined();
    expect(state.publisher).toBeUndefined();
    // …and while a notice is on its way over an open one.
    await publisher.start(() => undefined);
    await publisher.publish('first');
    const inFlight = Promise.all(Array.from({ length: 5 }, (_, i) => publisher.publish(`late ${i}`)));
    await publisher.close();
    await expect(inFlight).resolves.toBeDefined();
    expect(state.publisher).toBeUndefined();
  });
});
