import { ServiceSpec } from '../lib';

/** The example platform: three services, two with a database, all three on the message bus. */
export const EXAMPLE_SERVICES: ServiceSpec[] = [
  {
    name: 'orders', image: 'registry.example.no/orders:1.4.2', port: 8080, replicas: 2, healthPath: '/healthz',
    routes: ['/v1/orders'], database: { storageGi: 20 }, messaging: { publishes: ['orders.created'] },
  },
  {
    name: 'invoices', image: 'registry.example.no/invoices:2.0.1', port: 8080, healthPath: '/healthz',
    routes: ['/v1/invoices'], database: {}, messaging: { publishes: ['invoices.issued'], consumes: ['orders.created'] },
  },
  {
    name: 'notifications', image: 'registry.example.no/notifications:0.9.0', port: 8080, replicas: 2,
    routes: ['/v1/notifications'], messaging: { consumes: ['orders.created', 'invoices.issued'] },
  },
];
