// Registers cdktf's matchers (toHaveResource, toHaveResourceWithProperties, ...) and their types.
import 'cdktf/lib/testing/adapters/jest';
import { Testing } from 'cdktf';

Testing.setupJest();

// Component-built workloads skip the Workload schema's checks in production (lib/workload/target.ts,
// builtByComponent); every test validates them anyway and fails when the fast path disagrees.
process.env.SOVEREIGN_STACK_CHECK_TRUSTED = '1';
