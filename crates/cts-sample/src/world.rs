//! The account the traces come from: its operators (root, people, automation, agencies,
//! federated users) with their IDs, access keys, addresses and user agents, and the pools of
//! resources they work on.

use rand::rngs::StdRng;
use rand::{Rng, SeedableRng};

use crate::catalogue::{P, POOL_COUNT};
use crate::options::{GenOptions, SAMPLE_BUCKET};
use crate::random::{access_key, cumulate, hex32, pick, uuid4};

/// The kind of an operator.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Kind {
    Root,
    Human,
    Automation,
    Agency,
    Federated,
}

/// Someone who performs operations: a user, an agency or a federated user.
pub(crate) struct Operator {
    pub(crate) kind: Kind,
    /// `user.name`.
    pub(crate) name: String,
    /// `user.id`.
    pub(crate) id: String,
    pub(crate) principal_id: String,
    pub(crate) principal_urn: String,
    /// Permanent access key (API calls by users).
    pub(crate) ak: String,
    pub(crate) mfa: bool,
    /// Source IPs.
    pub(crate) ips: Vec<String>,
    /// User agents of API calls.
    pub(crate) agents: &'static [&'static str],
    /// For agencies: the user who assumed it.
    pub(crate) origin_user: Option<String>,
    weight: u32,
}

impl Operator {
    /// `user.type`.
    pub(crate) fn user_type(&self) -> &'static str {
        match self.kind {
            Kind::Root | Kind::Human | Kind::Automation => "User",
            Kind::Agency => "AssumedAgency",
            Kind::Federated => "ExternalUser",
        }
    }
}

/// User agents of console sessions.
pub(crate) const BROWSERS: &[&str] = &[
    "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/125.0.0.0 Safari/537.36",
    "Mozilla/5.0 (Macintosh; Intel Mac OS X 10_15_7) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/17.4 Safari/605.1.15",
    "Mozilla/5.0 (X11; Linux x86_64; rv:126.0) Gecko/20100101 Firefox/126.0",
];
/// User agents of API calls.
const SDKS: &[&str] = &[
    "terraform-provider-opentelekomcloud/1.36.9",
    "python-otcextensions/0.30.2 openstacksdk/3.0.0",
    "huaweicloud-sdk-go-v3/0.1.98",
    "obsutil/5.5.12",
];

/// Public-looking first octets (no private, loopback or multicast ranges).
const PUBLIC_FIRST_OCTETS: &[u8] = &[5, 37, 46, 62, 77, 80, 84, 91, 145, 176, 185, 193, 212, 217];

/// A public IPv4 address.
pub(crate) fn public_ip(rng: &mut StdRng) -> String {
    format!(
        "{}.{}.{}.{}",
        pick(rng, PUBLIC_FIRST_OCTETS),
        rng.random_range(0..=255),
        rng.random_range(0..=255),
        rng.random_range(1..=254)
    )
}

/// The account: its IDs, operators and resources, made once per bucket from the seed.
pub(crate) struct World {
    pub(crate) region: String,
    pub(crate) project_id: String,
    pub(crate) domain_id: String,
    pub(crate) domain_name: String,
    /// Tracker folder.
    pub(crate) tracker: String,
    /// File prefix.
    pub(crate) prefix: String,
    pub(crate) operators: Vec<Operator>,
    /// Operators (indices) and their cumulative weights per `Who` (index: Any, Console, Api,
    /// Agency).
    pub(crate) who_tables: [(Vec<usize>, Vec<u32>); 4],
    /// Resources per pool ([`P`] as index): (name, ID).
    pub(crate) pools: Vec<Vec<(String, String)>>,
    /// UUIDv1 node IDs of the `trace_id`s.
    pub(crate) nodes: Vec<[u8; 6]>,
    pub(crate) enterprise_projects: Vec<String>,
    /// The `agencyId` of console endpoints.
    pub(crate) console_agency: String,
}

impl World {
    /// The world of `opts.seed`, with these project and domain IDs.
    pub(crate) fn new(opts: &GenOptions, project_id: String, domain_id: String) -> World {
        let mut rng = StdRng::seed_from_u64(opts.seed ^ 0x0005_eed0_fa11_ce11);
        let rng = &mut rng;
        let region = opts.region.clone();
        let domain_name = format!(
            "OTC-{}-00000000001000{:06}",
            region.to_ascii_uppercase(),
            rng.random_range(0..1_000_000)
        );

        let mut operators = Vec::new();
        let mut add = |rng: &mut StdRng, kind: Kind, name: String, weight: u32, mfa: bool| {
            let id = hex32(rng);
            let (principal_id, principal_urn, origin_user) = match kind {
                Kind::Root | Kind::Human | Kind::Automation => {
                    (id.clone(), format!("iam::{domain_id}:user:{name}"), None)
                }
                Kind::Agency => {
                    let (agency, session) = name.split_once('|').unwrap_or((&name, "session"));
                    (
                        format!("{id}:{session}"),
                        format!("sts::{domain_id}:assumed-agency:{agency}/{session}"),
                        Some(session.to_string()),
                    )
                }
                Kind::Federated => {
                    let (idp, session) = name.split_once('/').unwrap_or(("idp", &name));
                    (
                        format!("{idp}:{session}"),
                        format!("sts::{domain_id}:external-user:{idp}/{session}"),
                        None,
                    )
                }
            };
            let name = match kind {
                Kind::Agency => format!("{domain_name}/{}", name.split('|').next().unwrap_or("")),
                _ => name,
            };
            let ips = (0..rng.random_range(1..=3))
                .map(|_| public_ip(rng))
                .collect();
            let agents = match kind {
                Kind::Automation => &SDKS[..3],
                Kind::Agency => SDKS,
                _ => BROWSERS,
            };
            operators.push(Operator {
                kind,
                name,
                id,
                principal_id,
                principal_urn,
                ak: access_key(rng, false),
                mfa,
                ips,
                agents,
                origin_user,
                weight,
            });
        };
        add(rng, Kind::Root, domain_name.clone(), 25, true);
        let humans: [(&str, u32, bool); 10] = [
            ("alice.mueller", 90, true),
            ("bernd.schmidt", 70, true),
            ("carla.rossi", 60, false),
            ("david.klein", 50, true),
            ("eva.novak", 45, false),
            ("frank.weber", 40, true),
            ("greta.hansen", 30, false),
            ("hugo.martin", 25, true),
            ("ines.silva", 20, false),
            ("jan.kowalski", 15, false),
        ];
        for (name, weight, mfa) in humans {
            add(rng, Kind::Human, name.to_string(), weight, mfa);
        }
        let robots: [(&str, u32); 3] = [
            ("terraform-ci", 160),
            ("backup-bot", 60),
            ("monitoring-svc", 80),
        ];
        for (name, weight) in robots {
            add(rng, Kind::Automation, name.to_string(), weight, false);
        }
        let agencies: [(&str, u32); 3] = [
            ("ops_admin_agency|alice.mueller", 40),
            ("cce_admin_trust|cce", 60),
            ("security_audit|auditor", 20),
        ];
        for (name, weight) in agencies {
            add(rng, Kind::Agency, name.to_string(), weight, false);
        }
        let federated: [(&str, u32, bool); 3] = [
            ("corp-adfs/john.doe@example.com", 30, true),
            ("corp-adfs/maria.garcia@example.com", 25, true),
            ("okta-sso/contractor01", 10, false),
        ];
        for (name, weight, mfa) in federated {
            add(rng, Kind::Federated, name.to_string(), weight, mfa);
        }

        let table = |accept: &dyn Fn(Kind) -> bool| {
            let chosen: Vec<usize> = (0..operators.len())
                .filter(|&i| accept(operators[i].kind))
                .collect();
            let cumulative = cumulate(chosen.iter().map(|&i| operators[i].weight));
            (chosen, cumulative)
        };
        let who_tables = [
            table(&|_| true),
            table(&|k| matches!(k, Kind::Root | Kind::Human | Kind::Federated)),
            table(&|k| matches!(k, Kind::Human | Kind::Automation | Kind::Root)),
            table(&|k| k == Kind::Agency),
        ];

        let pools = Self::pools(
            rng,
            &region,
            &project_id,
            &domain_name,
            &domain_id,
            &operators,
        );
        let nodes = (0..12)
            .map(|_| {
                let mut node = rng.random::<[u8; 6]>();
                node[0] |= 0x01; // random node IDs carry the multicast bit (RFC 9562 §6.10)
                node
            })
            .collect();
        let enterprise_projects = vec![uuid4(rng), uuid4(rng)];
        World {
            region,
            project_id,
            domain_id,
            domain_name,
            tracker: opts.tracker.clone(),
            prefix: opts.file_prefix.clone(),
            operators,
            who_tables,
            pools,
            nodes,
            enterprise_projects,
            console_agency: hex32(rng),
        }
    }

    fn pools(
        rng: &mut StdRng,
        region: &str,
        project_id: &str,
        domain_name: &str,
        domain_id: &str,
        operators: &[Operator],
    ) -> Vec<Vec<(String, String)>> {
        let mut pools: Vec<Vec<(String, String)>> = vec![Vec::new(); POOL_COUNT];
        let named = |rng: &mut StdRng, names: &[&str]| -> Vec<(String, String)> {
            names.iter().map(|n| (n.to_string(), uuid4(rng))).collect()
        };
        let mut servers = Vec::new();
        for (role, count) in [
            ("web", 6),
            ("app", 6),
            ("db", 3),
            ("k8s-node", 8),
            ("batch", 4),
            ("bastion", 2),
            ("cache", 3),
            ("mq", 2),
        ] {
            for i in 1..=count {
                servers.push((format!("ecs-{role}-{i:02}"), uuid4(rng)));
            }
        }
        pools[P::Server as usize] = servers;
        pools[P::Volume as usize] = (0..50)
            .map(|_| (format!("volume-{:04x}", rng.random::<u16>()), uuid4(rng)))
            .collect();
        pools[P::Snapshot as usize] = (0..12)
            .map(|_| {
                (
                    format!("snapshot-{:06x}", rng.random_range(0..0xff_ffffu32)),
                    uuid4(rng),
                )
            })
            .collect();
        pools[P::Vpc as usize] = named(rng, &["vpc-prod", "vpc-dev", "vpc-shared", "vpc-dmz"]);
        pools[P::Subnet as usize] = named(
            rng,
            &[
                "subnet-prod-a",
                "subnet-prod-b",
                "subnet-prod-db",
                "subnet-dev-a",
                "subnet-dev-b",
                "subnet-shared",
                "subnet-dmz",
                "subnet-k8s",
                "subnet-mgmt",
                "subnet-batch",
            ],
        );
        pools[P::Eip as usize] = (0..16)
            .map(|_| {
                let ip = format!(
                    "80.158.{}.{}",
                    rng.random_range(0..=255),
                    rng.random_range(1..=254)
                );
                (ip, uuid4(rng))
            })
            .collect();
        pools[P::SecGroup as usize] = named(
            rng,
            &[
                "default",
                "sg-web",
                "sg-db",
                "sg-bastion",
                "sg-k8s",
                "sg-lb",
                "sg-mgmt",
                "sg-cache",
            ],
        );
        pools[P::Bandwidth as usize] = (0..6)
            .map(|_| (format!("bandwidth-{:04x}", rng.random::<u16>()), uuid4(rng)))
            .collect();
        pools[P::Router as usize] = named(rng, &["router-prod", "router-dev", "router-transit"]);
        let mut iam_users: Vec<(String, String)> = operators
            .iter()
            .filter(|o| matches!(o.kind, Kind::Human | Kind::Automation))
            .map(|o| (o.name.clone(), o.id.clone()))
            .collect();
        for extra in [
            "new.hire01",
            "temp-contractor",
            "svc-reporting",
            "audit-readonly",
        ] {
            iam_users.push((extra.to_string(), hex32(rng)));
        }
        pools[P::IamUser as usize] = iam_users;
        let hexed = |rng: &mut StdRng, names: &[&str]| -> Vec<(String, String)> {
            names.iter().map(|n| (n.to_string(), hex32(rng))).collect()
        };
        pools[P::Group as usize] = hexed(
            rng,
            &[
                "admin",
                "developers",
                "readonly",
                "auditors",
                "ops",
                "security",
            ],
        );
        pools[P::Agency as usize] = hexed(
            rng,
            &[
                "ops_admin_agency",
                "cce_admin_trust",
                "security_audit",
                "dss_backup",
            ],
        );
        pools[P::Project as usize] = vec![
            (region.to_string(), project_id.to_string()),
            (format!("{region}_dev"), hex32(rng)),
            (format!("{region}_test"), hex32(rng)),
        ];
        pools[P::RoleBinding as usize] = hexed(
            rng,
            &[
                "developers:te_admin",
                "developers:ecs_adm",
                "ops:te_admin",
                "readonly:readonly",
                "auditors:cts_adm",
                "security:secu_admin",
                "admin:te_admin",
                "ops:vpc_adm",
            ],
        );
        pools[P::Idp as usize] = vec![
            ("corp-adfs".to_string(), "corp-adfs".to_string()),
            ("okta-sso".to_string(), "okta-sso".to_string()),
        ];
        pools[P::Mapping as usize] = vec![
            (
                "mapping_corp-adfs".to_string(),
                "mapping_corp-adfs".to_string(),
            ),
            (
                "mapping_okta-sso".to_string(),
                "mapping_okta-sso".to_string(),
            ),
        ];
        pools[P::Domain as usize] = vec![(domain_name.to_string(), domain_id.to_string())];
        pools[P::Tracker as usize] =
            named(rng, &["system", "system", "system", "data-tracker-prod"]);
        pools[P::Notification as usize] =
            named(rng, &["key-ops-alert", "login-alert", "sg-change-alert"]);
        pools[P::Trace as usize] = vec![("system".to_string(), String::new())];
        let buckets = [
            SAMPLE_BUCKET,
            "prod-backups",
            "web-assets",
            "data-lake-raw",
            "logs-archive",
            "terraform-state",
            "ml-datasets",
            "tmp-share",
            "static-site",
            "invoices-pdf",
        ];
        pools[P::Bucket as usize] = buckets
            .iter()
            .map(|b| (b.to_string(), String::new()))
            .collect();
        pools[P::AllBuckets as usize] = vec![("-".to_string(), String::new())];
        pools[P::Key as usize] = named(
            rng,
            &[
                "kms-prod-db",
                "kms-backup",
                "kms-obs-sse",
                "kms-evs-default",
                "kms-app-secrets",
                "kms-rds",
                "kms-cts",
                "kms-test",
            ],
        );
        pools[P::Topic as usize] = [
            "ops-alerts",
            "security-events",
            "billing",
            "deployments",
            "cts-key-events",
            "oncall",
        ]
        .iter()
        .map(|t| (t.to_string(), format!("urn:smn:{region}:{project_id}:{t}")))
        .collect();
        pools[P::Template as usize] = hexed(rng, &["alarm-template", "ops-notice"]);
        pools[P::Rds as usize] = [
            "rds-pg-prod",
            "rds-mysql-shop",
            "rds-pg-analytics",
            "rds-mysql-dev",
            "rds-pg-staging",
        ]
        .iter()
        .map(|n| (n.to_string(), format!("{}in03", hex32(rng))))
        .collect();
        pools[P::Lb as usize] = named(
            rng,
            &["elb-public-web", "elb-internal-api", "elb-k8s-ingress"],
        );
        pools[P::Listener as usize] = named(
            rng,
            &[
                "listener-https-443",
                "listener-http-80",
                "listener-api-8443",
                "listener-grpc-9090",
                "listener-k8s-443",
                "listener-admin-8080",
            ],
        );
        pools[P::Pool as usize] = named(
            rng,
            &[
                "pool-web",
                "pool-api",
                "pool-k8s",
                "pool-admin",
                "pool-grpc",
            ],
        );
        pools
    }
}
