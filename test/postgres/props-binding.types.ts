// Compile-time only (checked by `tsc --noEmit`): the documented props and the internal schemas
// that validate them cannot drift apart. Each @ts-expect-error must stay an error.
import type { PostgresBackupOptions, PostgresDatabaseOptions, PostgresTlsOptions } from '../../lib/postgres/props';
import type { PostgresBackupOptionsSchema, PostgresDatabaseOptionsSchema } from '../../lib/postgres/schema';
import type { SchemaMatches } from '../../lib/util/schema-binding';

export const options: SchemaMatches<PostgresDatabaseOptions, typeof PostgresDatabaseOptionsSchema> = true;
export const backup: SchemaMatches<PostgresBackupOptions, typeof PostgresBackupOptionsSchema> = true;

interface RetypedProp extends Omit<PostgresDatabaseOptions, 'storageGi'> { readonly storageGi?: string }
// @ts-expect-error storageGi is a number in the schema
export const retyped: SchemaMatches<RetypedProp, typeof PostgresDatabaseOptionsSchema> = true;

type MissingProp = Omit<PostgresDatabaseOptions, 'walStorageGi'>;
// @ts-expect-error the schema has walStorageGi
export const missing: SchemaMatches<MissingProp, typeof PostgresDatabaseOptionsSchema> = true;

interface RequiredProp extends Omit<PostgresDatabaseOptions, 'image'> { readonly image: string }
// @ts-expect-error image has a default, so it is optional
export const required: SchemaMatches<RequiredProp, typeof PostgresDatabaseOptionsSchema> = true;

interface NestedDrift extends Omit<PostgresDatabaseOptions, 'tls'> {
  readonly tls?: Omit<PostgresTlsOptions, 'certManager'> & { readonly certManager?: { readonly issuerName: string; readonly issuerKind?: 'Issuer' } };
}
// @ts-expect-error the schema also accepts a ClusterIssuer
export const nested: SchemaMatches<NestedDrift, typeof PostgresDatabaseOptionsSchema> = true;
