/**
 * The topology keys each CSI driver reports for a node (CSINode `topologyKeys`, from the driver's
 * NodeGetInfo). The CSI external-provisioner refuses a claim whose StorageClass `allowedTopologies`
 * name a key the driver does not report ("topology ... is not in requisite"), so a StorageClass may
 * only pin topology with these keys. None of the drivers below reports
 * `topology.kubernetes.io/region`: the region pin of a datastore lives in its pods' REQUIRED node
 * affinity, and WaitForFirstConsumer then provisions the volume on the node the scheduler chose.
 */
export interface CsiProvisionerTopology {
  /** Keys the driver puts on CSINode for every node it serves. */
  readonly topologyKeys: readonly string[];
  /**
   * The reported key whose value is the node's region, if any: only then can the StorageClass
   * itself pin the region (as a second line behind node affinity).
   */
  readonly regionKey?: string;
  /** What the driver is, and where its keys are defined. */
  readonly description: string;
}

/** The provisioners we know, by CSI driver name. Others: declare `topologyKeys` yourself. */
export const CSI_PROVISIONERS: Readonly<Record<string, CsiProvisionerTopology>> = Object.freeze({
  // topolvm/topolvm: constants.go TopologyNodeKey.
  'topolvm.io': Object.freeze({
    topologyKeys: Object.freeze(['topology.topolvm.io/node']),
    description: 'TopoLVM: LVM volumes on the node\'s local NVMe volume group',
  }),
  // openebs/lvm-localpv: the node plugin registers openebs.io/nodename (more only via ALLOWED_TOPOLOGIES).
  'local.csi.openebs.io': Object.freeze({
    topologyKeys: Object.freeze(['openebs.io/nodename']),
    description: 'OpenEBS LocalPV-LVM',
  }),
  // openebs/zfs-localpv: same key as LocalPV-LVM.
  'zfs.csi.openebs.io': Object.freeze({
    topologyKeys: Object.freeze(['openebs.io/nodename']),
    description: 'OpenEBS LocalPV-ZFS',
  }),
  // hetznercloud/csi-driver: the location (hel1, fsn1, ...), i.e. the region, of the server.
  'csi.hetzner.cloud': Object.freeze({
    topologyKeys: Object.freeze(['csi.hetzner.cloud/location']),
    regionKey: 'csi.hetzner.cloud/location',
    description: 'Hetzner Cloud volumes (network-attached, not local NVMe)',
  }),
  // kubernetes-sigs/aws-ebs-csi-driver: zone keys only.
  'ebs.csi.aws.com': Object.freeze({
    topologyKeys: Object.freeze(['topology.ebs.csi.aws.com/zone', 'topology.kubernetes.io/zone']),
    description: 'Amazon EBS',
  }),
  // kubernetes-sigs/gcp-compute-persistent-disk-csi-driver.
  'pd.csi.storage.gke.io': Object.freeze({
    topologyKeys: Object.freeze(['topology.gke.io/zone']),
    description: 'Google Compute Engine persistent disks',
  }),
});

/** The topology a provisioner reports: the table's entry, or what the user declared for another. */
export function provisionerTopology(provisioner: string, declared?: { topologyKeys: readonly string[]; regionKey?: string }): CsiProvisionerTopology {
  if (declared) return { ...declared, description: `${provisioner} (topology declared by the user)` };
  return CSI_PROVISIONERS[provisioner] ?? { topologyKeys: [], description: `${provisioner} (unknown topology: no allowedTopologies emitted)` };
}
