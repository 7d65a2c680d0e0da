//! The catalogue of services and operations (cts-spec.md §6.2): which service and resource
//! type each operation belongs to, how often it happens, who performs it and on which pool of
//! resources.

/// The services, in the order of their indices below.
pub(crate) const SERVICES: [&str; 10] = [
    "ECS", "EVS", "VPC", "IAM", "CTS", "OBS", "KMS", "SMN", "RDS", "ELB",
];
pub(crate) const ECS: usize = 0;
pub(crate) const EVS: usize = 1;
pub(crate) const VPC: usize = 2;
pub(crate) const IAM: usize = 3;
pub(crate) const CTS: usize = 4;
pub(crate) const OBS: usize = 5;
pub(crate) const KMS: usize = 6;
pub(crate) const SMN: usize = 7;
pub(crate) const RDS: usize = 8;
pub(crate) const ELB: usize = 9;

/// Who performs an operation.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Who {
    /// Any operator, console or API.
    Any,
    /// Interactive console users only (logins, password changes, MFA).
    Console,
    /// Token requests: humans and automation, by API.
    Api,
    /// Agencies (assumed roles).
    Agency,
    /// The cloud itself: `SystemAction`, no user, no source IP.
    System,
}

/// Resource pools; `Fresh*` ones make a new resource for every trace.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum P {
    Server,
    Volume,
    Snapshot,
    Vpc,
    Subnet,
    Eip,
    SecGroup,
    FreshSgRule,
    Bandwidth,
    FreshPrivateIp,
    Router,
    IamUser,
    Operator,
    Group,
    Agency,
    Project,
    RoleBinding,
    Idp,
    Mapping,
    Domain,
    Tracker,
    Notification,
    Trace,
    Bucket,
    AllBuckets,
    Key,
    Topic,
    FreshSubscription,
    Template,
    Rds,
    FreshBackup,
    Lb,
    Listener,
    Pool,
    FreshMember,
}
/// Number of resource pools.
pub(crate) const POOL_COUNT: usize = P::FreshMember as usize + 1;

/// One catalogued operation.
pub(crate) struct Op {
    /// Index into [`SERVICES`].
    pub(crate) svc: usize,
    /// `resource_type`.
    pub(crate) rtype: &'static str,
    /// `trace_name`.
    pub(crate) name: &'static str,
    /// Weight per 100,000 traces.
    pub(crate) w: u32,
    pub(crate) who: Who,
    /// `read_only`.
    pub(crate) ro: bool,
    pub(crate) pool: P,
}

const fn op(svc: usize, rtype: &'static str, name: &'static str, w: u32, who: Who, pool: P) -> Op {
    Op {
        svc,
        rtype,
        name,
        w,
        who,
        ro: false,
        pool,
    }
}

const fn ro(svc: usize, rtype: &'static str, name: &'static str, w: u32, who: Who, pool: P) -> Op {
    Op {
        svc,
        rtype,
        name,
        w,
        who,
        ro: true,
        pool,
    }
}

use Who::{Agency as WAgency, Any, Api, Console, System};

/// Every operation the generator writes, with its weight.
#[rustfmt::skip]
pub(crate) const OPS: &[Op] = &[
    // ECS, resource `ecs` (security groups included, as in the ECS operation list).
    op(ECS, "ecs", "createServer", 1200, Any, P::Server),
    op(ECS, "ecs", "deleteServer", 600, Any, P::Server),
    op(ECS, "ecs", "startServer", 3500, Any, P::Server),
    op(ECS, "ecs", "stopServer", 3000, Any, P::Server),
    op(ECS, "ecs", "rebootServer", 2200, Any, P::Server),
    op(ECS, "ecs", "resizeServer", 250, Any, P::Server),
    op(ECS, "ecs", "attachVolume", 900, Any, P::Server),
    op(ECS, "ecs", "detachVolume", 600, Any, P::Server),
    op(ECS, "ecs", "addNic", 200, Any, P::Server),
    op(ECS, "ecs", "deleteNic", 150, Any, P::Server),
    op(ECS, "ecs", "updateMetadata", 2500, Any, P::Server),
    op(ECS, "ecs", "setMetadata", 800, Any, P::Server),
    op(ECS, "ecs", "deleteMetadata", 1500, Any, P::Server),
    op(ECS, "ecs", "reinstallOs", 100, Any, P::Server),
    op(ECS, "ecs", "changeOs", 80, Any, P::Server),
    op(ECS, "ecs", "addAutoRecovery", 150, Any, P::Server),
    op(ECS, "ecs", "createSecurityGroup", 150, Any, P::SecGroup),
    op(ECS, "ecs", "updateSecurityGroup", 100, Any, P::SecGroup),
    op(ECS, "ecs", "addSecurityGroup", 200, Any, P::Server),
    op(ECS, "ecs", "removeSecurityGroup", 120, Any, P::Server),
    op(ECS, "ecs", "createSgRule", 400, Any, P::FreshSgRule),
    op(ECS, "ecs", "deleteSgRule", 250, Any, P::FreshSgRule),
    op(ECS, "ecs", "createFloatingIp", 100, Any, P::Eip),
    op(ECS, "ecs", "deleteFloatingIp", 80, Any, P::Eip),
    op(ECS, "ecs", "createSingleServer", 1400, System, P::Server),
    op(ECS, "server", "interruptServer", 60, System, P::Server),
    // EVS
    op(EVS, "evs", "createVolume", 2500, Any, P::Volume),
    op(EVS, "evs", "deleteVolume", 1500, Any, P::Volume),
    op(EVS, "evs", "extendVolume", 1200, Any, P::Volume),
    op(EVS, "evs", "updateVolume", 1500, Any, P::Volume),
    op(EVS, "snapshot", "createSnapshot", 1500, Any, P::Snapshot),
    op(EVS, "snapshot", "deleteSnapshot", 800, Any, P::Snapshot),
    // VPC
    op(VPC, "vpcs", "createVpc", 300, Any, P::Vpc),
    op(VPC, "vpcs", "modifyVpc", 400, Any, P::Vpc),
    op(VPC, "vpcs", "deleteVpc", 150, Any, P::Vpc),
    op(VPC, "subnets", "createSubnet", 700, Any, P::Subnet),
    op(VPC, "subnets", "modifySubnet", 400, Any, P::Subnet),
    op(VPC, "subnets", "deleteSubnet", 300, Any, P::Subnet),
    op(VPC, "eip", "createEip", 900, Any, P::Eip),
    op(VPC, "eip", "deleteEip", 600, Any, P::Eip),
    op(VPC, "eip", "bindEip", 1500, Any, P::Eip),
    op(VPC, "eip", "unbindEip", 1000, Any, P::Eip),
    op(VPC, "bandwidth", "modifyBandwidth", 1200, Any, P::Bandwidth),
    op(VPC, "privateips", "createPrivateIp", 600, Any, P::FreshPrivateIp),
    op(VPC, "privateips", "deletePrivateIp", 400, Any, P::FreshPrivateIp),
    op(VPC, "router", "createRouter", 100, Any, P::Router),
    op(VPC, "security_groups", "createSecurity-group", 200, Any, P::SecGroup),
    op(VPC, "security_groups", "updateSecurity-group", 150, Any, P::SecGroup),
    op(VPC, "security_groups", "deleteSecurity-group", 120, Any, P::SecGroup),
    op(VPC, "security-group-rules", "createSecurity-group-rule", 900, Any, P::FreshSgRule),
    op(VPC, "security-group-rules", "updateSecurity-group-rule", 100, Any, P::FreshSgRule),
    op(VPC, "security-group-rules", "deleteSecurity-group-rule", 500, Any, P::FreshSgRule),
    // IAM (event_type `global`)
    op(IAM, "user", "login", 6000, Console, P::Operator),
    op(IAM, "user", "loginFailed", 900, Console, P::Operator),
    op(IAM, "user", "logout", 2500, Console, P::Operator),
    op(IAM, "token", "createTokenByPwd", 2000, Api, P::Operator),
    op(IAM, "token", "createTokenByAssumeRole", 1000, WAgency, P::Agency),
    op(IAM, "user", "switchRole", 300, Console, P::Agency),
    op(IAM, "user", "changePassword", 150, Console, P::Operator),
    op(IAM, "user", "createUser", 120, Any, P::IamUser),
    op(IAM, "user", "updateUser", 200, Any, P::IamUser),
    op(IAM, "user", "deleteUser", 80, Any, P::IamUser),
    op(IAM, "user", "updateUserPwd", 80, Console, P::Operator),
    op(IAM, "user", "setPasswordByAdmin", 60, Any, P::IamUser),
    op(IAM, "user", "modifyUserPassword", 60, Console, P::Operator),
    op(IAM, "user", "addCredential", 150, Any, P::IamUser),
    op(IAM, "user", "deleteCredential", 120, Any, P::IamUser),
    op(IAM, "userGroup", "createUserGroup", 60, Any, P::Group),
    op(IAM, "userGroup", "updateUserGroup", 40, Any, P::Group),
    op(IAM, "userGroup", "deleteUserGroup", 40, Any, P::Group),
    op(IAM, "userGroup", "addUserToGroup", 150, Any, P::Group),
    op(IAM, "userGroup", "removeUserFromGroup", 80, Any, P::Group),
    op(IAM, "project", "createProject", 20, Any, P::Project),
    op(IAM, "roleGroupProject", "assignRoleToGroupOnProject", 90, Any, P::RoleBinding),
    op(IAM, "roleGroupProject", "unassignRoleToGroupOnProject", 50, Any, P::RoleBinding),
    op(IAM, "roleGroupDomain", "assignRoleToGroupOnDomain", 60, Any, P::RoleBinding),
    op(IAM, "roleGroupDomain", "unassignRoleToGroupOnDomain", 30, Any, P::RoleBinding),
    op(IAM, "agency", "createAgency", 60, Any, P::Agency),
    op(IAM, "agency", "updateAgency", 40, Any, P::Agency),
    op(IAM, "agency", "deleteAgency", 30, Any, P::Agency),
    op(IAM, "MFA", "BindMFA", 80, Console, P::Operator),
    op(IAM, "MFA", "UnBindMFA", 40, Console, P::Operator),
    op(IAM, "domain", "updateSecurityPolicies", 30, Any, P::Domain),
    op(IAM, "domain", "updatePasswordPolicies", 30, Any, P::Domain),
    op(IAM, "domain", "updateACLPolicies", 30, Any, P::Domain),
    op(IAM, "identityProvider", "createIdentityProvider", 20, Any, P::Idp),
    op(IAM, "identityProvider", "updateIdentityProvider", 20, Any, P::Idp),
    op(IAM, "identityProvider", "deleteIdentityProvider", 15, Any, P::Idp),
    op(IAM, "mapping", "createMapping", 20, Any, P::Mapping),
    op(IAM, "mapping", "updateMapping", 20, Any, P::Mapping),
    op(IAM, "protocol", "createProtocol", 15, Any, P::Idp),
    // CTS itself
    op(CTS, "tracker", "createTracker", 60, Any, P::Tracker),
    op(CTS, "tracker", "updateTracker", 300, Any, P::Tracker),
    op(CTS, "tracker", "deleteTracker", 40, Any, P::Tracker),
    ro(CTS, "trace", "getTrace", 900, Any, P::Trace),
    op(CTS, "notification", "createNotification", 100, Any, P::Notification),
    op(CTS, "notification", "updateNotification", 150, Any, P::Notification),
    op(CTS, "notification", "updateNotificationStatus", 80, Any, P::Notification),
    op(CTS, "notification", "deleteNotification", 60, Any, P::Notification),
    // OBS (trace_type `Others`)
    ro(OBS, "bucket", "listAllMyBucket", 6000, Any, P::AllBuckets),
    ro(OBS, "bucket", "getBucketPolicy", 1500, Any, P::Bucket),
    op(OBS, "bucket", "createBucket", 700, Any, P::Bucket),
    op(OBS, "bucket", "deleteBucket", 300, Any, P::Bucket),
    op(OBS, "bucket", "setBucketPolicy", 500, Any, P::Bucket),
    op(OBS, "bucket", "deleteBucketPolicy", 200, Any, P::Bucket),
    op(OBS, "bucket", "setBucketAcl", 500, Any, P::Bucket),
    op(OBS, "bucket", "setBucketLifecycle", 400, Any, P::Bucket),
    op(OBS, "bucket", "setBucketVersioning", 300, Any, P::Bucket),
    op(OBS, "bucket", "setBucketEncryption", 200, Any, P::Bucket),
    op(OBS, "bucket", "setBucketLogging", 150, Any, P::Bucket),
    // KMS
    op(KMS, "cmk", "createDataKey", 4000, Any, P::Key),
    op(KMS, "cmk", "decryptDatakey", 3000, Any, P::Key),
    op(KMS, "cmk", "encryptDatakey", 1500, Any, P::Key),
    op(KMS, "cmk", "createKey", 300, Any, P::Key),
    op(KMS, "cmk", "enableKey", 150, Any, P::Key),
    op(KMS, "cmk", "disableKey", 150, Any, P::Key),
    op(KMS, "cmk", "scheduleKeyDeletion", 80, Any, P::Key),
    op(KMS, "cmk", "cancelKeyDeletion", 40, Any, P::Key),
    op(KMS, "cmk", "updateKeyAlias", 100, Any, P::Key),
    op(KMS, "cmk", "createGrant", 150, Any, P::Key),
    op(KMS, "cmk", "enableKeyRotation", 80, Any, P::Key),
    // SMN
    op(SMN, "message", "publishMessage", 2000, Any, P::Topic),
    op(SMN, "topic", "createTopic", 300, Any, P::Topic),
    op(SMN, "topic", "deleteTopic", 150, Any, P::Topic),
    op(SMN, "topic", "updateTopic", 200, Any, P::Topic),
    op(SMN, "topic", "updateTopicAttribute", 200, Any, P::Topic),
    op(SMN, "subscription", "subscribe", 400, Any, P::FreshSubscription),
    op(SMN, "subscription", "delsubscribe", 200, Any, P::FreshSubscription),
    op(SMN, "message_template", "createMessageTemplate", 100, Any, P::Template),
    // RDS
    op(RDS, "instance", "createInstance", 400, Any, P::Rds),
    op(RDS, "instance", "deleteInstance", 200, Any, P::Rds),
    op(RDS, "instance", "restartInstance", 800, Any, P::Rds),
    op(RDS, "instance", "resizeFlavor", 300, Any, P::Rds),
    op(RDS, "instance", "resetPassword", 150, Any, P::Rds),
    op(RDS, "backup", "createManualBackup", 600, Any, P::FreshBackup),
    op(RDS, "backup", "createBackup", 1200, System, P::FreshBackup),
    // ELB
    op(ELB, "loadbalancer", "createLoadbalancer", 200, Any, P::Lb),
    op(ELB, "loadbalancer", "deleteLoadbalancer", 100, Any, P::Lb),
    op(ELB, "listener", "createListener", 400, Any, P::Listener),
    op(ELB, "listener", "updateListener", 500, Any, P::Listener),
    op(ELB, "listener", "deleteListener", 200, Any, P::Listener),
    op(ELB, "pool", "createPool", 300, Any, P::Pool),
    op(ELB, "member", "addMember", 700, Any, P::FreshMember),
    op(ELB, "member", "removeMember", 500, Any, P::FreshMember),
];
