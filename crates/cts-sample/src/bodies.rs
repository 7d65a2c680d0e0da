//! What each trace says: its fields and the choices of how they are written (cts-spec.md §1.4),
//! its `trace_id`, operator and resource, the `user` object, and the request, response and
//! message bodies of each operation, failed ones with an error body.
//!
//! These are methods of [`Generator`] (which calls [`Generator::trace`] once per trace) and
//! the free functions that build parts of bodies.

use rand::Rng;
use rand::rngs::StdRng;
use uuid::{Timestamp, Uuid};

use crate::catalogue::{ECS, EVS, IAM, KMS, OBS, Op, P, SERVICES, VPC, Who};
use crate::generator::{Generator, HOUR_MS, utc_from_ms};
use crate::json::{J, arr, compact, encoded, obj, sort_keys, ss, st};
use crate::options::SAMPLE_BUCKET;
use crate::random::{access_key, chance, hex32, pick, uuid4, weighted};
use crate::world::{BROWSERS, Kind, public_ip};

/// Milliseconds from the Gregorian reform (1582-10-15) to the Unix epoch, for UUIDv1 ticks.
const GREGORIAN_OFFSET_MS: i64 = 12_219_292_800_000;

/// Request/response/message content of a trace, before the §1.4 encoding choices.
struct Bodies {
    request: Option<J>,
    response: Option<J>,
    message: Option<J>,
}

impl Generator<'_> {
    /// A UUIDv1 `trace_id` carrying the trace's time, unique within the day.
    fn trace_id(&mut self, ms: i64) -> String {
        loop {
            let ticks =
                ((ms + GREGORIAN_OFFSET_MS) as u64) * 10_000 + self.rng.random_range(0..10_000);
            let counter = self.rng.random::<u16>() & 0x3fff;
            let node = self.world.nodes[self.rng.random_range(0..self.world.nodes.len())];
            let id = Uuid::new_v1(Timestamp::from_gregorian_time(ticks, counter), &node);
            if self.ids.insert(id.as_u128()) {
                return id.to_string();
            }
        }
    }

    /// An operator who may perform operations of `who` (none for the cloud itself).
    fn pick_operator(&mut self, who: Who) -> Option<usize> {
        let table = match who {
            Who::System => return None,
            Who::Any => 0,
            Who::Console => 1,
            Who::Api => 2,
            Who::Agency => 3,
        };
        let (members, cumulative) = &self.world.who_tables[table];
        let i = weighted(&mut self.rng, cumulative);
        members.get(i).copied()
    }

    /// The (name, ID) of the resource an operation works on.
    fn resource(&mut self, pool: P, operator: Option<usize>) -> (String, String) {
        let rng = &mut self.rng;
        match pool {
            P::FreshSgRule => {
                let id = uuid4(rng);
                (id.clone(), id)
            }
            P::FreshPrivateIp => (
                format!(
                    "10.{}.{}.{}",
                    rng.random_range(0..=255),
                    rng.random_range(0..=255),
                    rng.random_range(2..=254)
                ),
                uuid4(rng),
            ),
            P::FreshSubscription => {
                let topic = pick(rng, &self.world.pools[P::Topic as usize]).clone();
                (topic.0, format!("{}:{}", topic.1, hex32(rng)))
            }
            P::FreshBackup => {
                let instance = pick(rng, &self.world.pools[P::Rds as usize]).0.clone();
                (
                    format!(
                        "{instance}-backup-{:06x}",
                        rng.random_range(0..0xff_ffffu32)
                    ),
                    format!("{}br01", hex32(rng)),
                )
            }
            P::FreshMember => (
                format!(
                    "192.168.{}.{}",
                    rng.random_range(0..=15),
                    rng.random_range(2..=254)
                ),
                uuid4(rng),
            ),
            P::Operator => match operator {
                Some(o) => {
                    let o = &self.world.operators[o];
                    (o.name.clone(), o.id.clone())
                }
                None => (String::new(), String::new()),
            },
            _ => pick(rng, &self.world.pools[pool as usize]).clone(),
        }
    }

    /// Build one trace, with every §1.4 choice made here (so both copies of a duplicate agree).
    pub(crate) fn trace(&mut self, ms: i64, op: &'static Op) -> J {
        let operator = self.pick_operator(op.who);
        let trace_id = self.trace_id(ms);
        let record_ms = ms + self.rng.random_range(0..2000);
        let kind = operator.map(|o| self.world.operators[o].kind);

        let trace_type = if op.who == Who::System {
            "SystemAction"
        } else if op.svc == OBS {
            "Others"
        } else if matches!(op.who, Who::Console) {
            "ConsoleAction"
        } else if matches!(op.who, Who::Api) {
            "ApiCall"
        } else {
            match kind {
                Some(Kind::Automation) => "ApiCall",
                Some(Kind::Agency) => {
                    if chance(&mut self.rng, 700) {
                        "ApiCall"
                    } else {
                        "ConsoleAction"
                    }
                }
                _ => {
                    if chance(&mut self.rng, 850) {
                        "ConsoleAction"
                    } else {
                        "ApiCall"
                    }
                }
            }
        };
        let console = trace_type == "ConsoleAction"
            || (trace_type == "Others"
                && !matches!(kind, Some(Kind::Automation))
                && chance(&mut self.rng, 700));

        // Rating and HTTP status.
        let rating = if op.name == "loginFailed" {
            "warning"
        } else {
            match self.rng.random_range(0..1000) {
                0..900 => "normal",
                900..980 => "warning",
                _ => "incident",
            }
        };
        let code = self.status_code(op, rating);

        let source_ip = match operator {
            None => String::new(),
            Some(o) => {
                if op.name == "loginFailed" && chance(&mut self.rng, 300) {
                    public_ip(&mut self.rng)
                } else {
                    let ips = &self.world.operators[o].ips;
                    ips[self.rng.random_range(0..ips.len())].clone()
                }
            }
        };
        let (resource_name, resource_id) = self.resource(op.pool, operator);
        let bodies = self.bodies(
            op,
            operator,
            &resource_name,
            &resource_id,
            ms,
            rating != "normal",
        );

        // ---- §1.4 choices, per trace ----
        let mut fields: Vec<(&'static str, J)> = Vec::with_capacity(40);
        let time_as_string = chance(&mut self.rng, 50);
        let time_value = |t: i64| {
            if time_as_string {
                ss(t.to_string())
            } else {
                J::Int(t)
            }
        };
        let modern = chance(&mut self.rng, 700);

        fields.push(("trace_id", ss(trace_id)));
        match self.rng.random_range(0..100) {
            0..70 => fields.push(("code", J::Int(code))),
            70..90 => fields.push(("code", ss(code.to_string()))),
            _ => {}
        }
        fields.push(("trace_name", st(op.name)));
        fields.push(("resource_type", st(op.rtype)));
        match self.rng.random_range(0..100) {
            0..85 => fields.push(("trace_rating", st(rating))),
            85..95 => fields.push(("trace_status", st(rating))),
            _ => {
                fields.push(("trace_rating", st(rating)));
                fields.push(("trace_status", st(rating)));
            }
        }
        if chance(&mut self.rng, 600) {
            fields.push((
                "api_version",
                J::from(*pick(&mut self.rng, &["1.0", "2.0", "v3", "v1", ""])),
            ));
        }
        fields.push(("source_ip", ss(source_ip)));
        if modern {
            fields.push(("domain_id", ss(self.world.domain_id.clone())));
        }
        fields.push(("trace_type", st(trace_type)));
        fields.push(("service_type", st(SERVICES[op.svc])));
        fields.push((
            "event_type",
            st(if op.svc == IAM { "global" } else { "system" }),
        ));
        if modern {
            fields.push(("project_id", ss(self.world.project_id.clone())));
            fields.push(("read_only", J::Bool(op.ro)));
        }
        fields.push(("tracker_name", st("system")));
        if modern {
            fields.push(("operation_id", ss(pascal_case(op.name))));
            let account = if chance(&mut self.rng, 800) {
                self.world.domain_id.clone()
            } else {
                String::new()
            };
            fields.push(("resource_account_id", ss(account)));
            let project = if chance(&mut self.rng, 800) {
                "0".to_string()
            } else {
                pick(&mut self.rng, &self.world.enterprise_projects).clone()
            };
            fields.push(("enterprise_project_id", ss(project)));
        }
        fields.push(("time", time_value(ms)));
        if !resource_name.is_empty() && chance(&mut self.rng, 950) {
            fields.push(("resource_name", ss(resource_name)));
        }
        match operator {
            None => {
                if self.rng.random_bool(0.5) {
                    fields.push(("user", J::Null));
                }
            }
            Some(o) => {
                let user = self.user(o, console, ms);
                let user = if chance(&mut self.rng, 600) {
                    user
                } else {
                    encoded(&user)
                };
                fields.push(("user", user));
            }
        }
        fields.push(("record_time", time_value(record_ms)));
        let (request, content_length) = self.body_variant(bodies.request);
        if let Some(request) = request {
            fields.push(("request", request));
        }
        if let Some(message) = bodies.message {
            fields.push(("message", message));
        }
        if let (Some(response), _) = self.body_variant(bodies.response) {
            fields.push(("response", response));
        }
        if !resource_id.is_empty() {
            fields.push(("resource_id", ss(resource_id.clone())));
        }
        match self.rng.random_range(0..100) {
            0..10 => fields.push(("request_id", st("null"))),
            10..55 => fields.push(("request_id", ss(hex32(&mut self.rng)))),
            _ => {}
        }
        if modern {
            if let Some(o) = operator {
                let agents = self.world.operators[o].agents;
                let agent = if console {
                    *pick(&mut self.rng, BROWSERS)
                } else {
                    *pick(&mut self.rng, agents)
                };
                fields.push(("user_agent", st(agent)));
            }
            fields.push(("content_length", J::Int(content_length)));
            fields.push(("total_time", J::Int(self.rng.random_range(3..2500))));
        }
        if rating != "normal" && chance(&mut self.rng, 400) || chance(&mut self.rng, 20) {
            let info = *pick(
                &mut self.rng,
                &[
                    "resource has been deleted",
                    "quota exceeded",
                    "backend service timeout",
                    "permission check failed",
                ],
            );
            fields.push(("location_info", st(info)));
        }
        if chance(&mut self.rng, 80) {
            fields.push((
                "endpoint",
                ss(format!(
                    "https://console.otc.t-systems.com/{}/?agencyId={}&region={}&locale=en-us#",
                    SERVICES[op.svc].to_ascii_lowercase(),
                    self.world.console_agency,
                    self.world.region
                )),
            ));
            fields.push((
                "resource_url",
                ss(format!(
                    "/{}/manager/{}?id={}",
                    SERVICES[op.svc].to_ascii_lowercase(),
                    op.rtype,
                    resource_id
                )),
            ));
        }
        if chance(&mut self.rng, 10) {
            fields.push((
                "x_new_field",
                J::Obj(vec![("a", J::Int(self.rng.random_range(1..10)))]),
            ));
        }

        let mut value = J::Obj(fields);
        match self.rng.random_range(0..100) {
            0..20 => sort_keys(&mut value),
            20..40 => legacy_order(&mut value),
            _ => {}
        }
        value
    }

    /// The HTTP status of an operation with this rating.
    fn status_code(&mut self, op: &Op, rating: &str) -> i64 {
        let rng = &mut self.rng;
        if rating != "normal" {
            if op.name.starts_with("login") {
                return 401;
            }
            let codes: &[i64] = if rating == "warning" {
                &[400, 401, 403, 403, 404, 404, 409, 400]
            } else {
                &[500, 500, 500, 409, 400, 403]
            };
            return *pick(rng, codes);
        }
        let name = op.name;
        if name == "login" {
            302
        } else if (op.svc == ECS || op.svc == EVS) && !op.ro && rng.random_bool(0.6) {
            202
        } else if name.starts_with("delete") && rng.random_bool(0.5) {
            204
        } else if name.starts_with("create") && rng.random_bool(0.4) {
            201
        } else {
            200
        }
    }

    /// The `user` object of an operator for one trace.
    fn user(&mut self, o: usize, console: bool, ms: i64) -> J {
        let w = &self.world;
        let op = &w.operators[o];
        let rng = &mut self.rng;
        let domain = J::Obj(vec![
            ("name", ss(w.domain_name.clone())),
            ("id", ss(w.domain_id.clone())),
        ]);
        if chance(rng, 250) {
            // The short form of older files and events: name, id, domain.
            return if rng.random_bool(0.5) {
                J::Obj(vec![
                    ("name", ss(op.name.clone())),
                    ("id", ss(op.id.clone())),
                    ("domain", domain),
                ])
            } else {
                J::Obj(vec![
                    ("domain", domain),
                    ("name", ss(op.name.clone())),
                    ("id", ss(op.id.clone())),
                ])
            };
        }
        let temporary = console || matches!(op.kind, Kind::Agency | Kind::Federated);
        let ak = if temporary {
            access_key(rng, true)
        } else {
            op.ak.clone()
        };
        let mut fields = vec![
            ("domain", domain),
            ("name", ss(op.name.clone())),
            ("id", ss(op.id.clone())),
        ];
        if rng.random_bool(0.5) {
            fields.push(("user_name", ss(op.name.clone())));
        }
        fields.push(("account_id", ss(w.domain_id.clone())));
        fields.push(("access_key_id", ss(ak)));
        fields.push(("principal_urn", ss(op.principal_urn.clone())));
        fields.push(("principal_id", ss(op.principal_id.clone())));
        fields.push((
            "principal_is_root_user",
            st(if op.kind == Kind::Root {
                "true"
            } else {
                "false"
            }),
        ));
        fields.push(("type", st(op.user_type())));
        if console {
            fields.push(("invoked_by", J::Arr(vec![st("service.console")])));
        }
        if temporary {
            let created = ms - rng.random_range(0..4 * HOUR_MS);
            let mfa = op.mfa && console;
            fields.push((
                "session_context",
                J::Obj(vec![(
                    "attributes",
                    J::Obj(vec![
                        ("created_at", ss(created.to_string())),
                        ("mfa_authenticated", st(if mfa { "true" } else { "false" })),
                    ]),
                )]),
            ));
        }
        if let (Some(origin), true) = (&op.origin_user, rng.random_bool(0.5)) {
            fields.push(("OriginUser", ss(origin.clone())));
        }
        J::Obj(fields)
    }

    /// `request`/`response`: a JSON string, an object, `""`, `{}` or absent; with the length
    /// of the body's compact JSON (for `content_length`).
    fn body_variant(&mut self, body: Option<J>) -> (Option<J>, i64) {
        let r = self.rng.random_range(0..100);
        let Some(body) = body else {
            return (if r < 55 { Some(st("")) } else { None }, 0);
        };
        let text = compact(&body);
        let length = text.len() as i64;
        let value = match r {
            0..55 => Some(ss(text)),
            55..80 => Some(body),
            80..88 => Some(st("")),
            88..92 => Some(J::Obj(Vec::new())),
            _ => None,
        };
        (value, length)
    }

    // -----------------------------------------------------------------------------------------
    // Request, response and message content.

    /// The request, response and message of one operation.
    fn bodies(
        &mut self,
        op: &Op,
        operator: Option<usize>,
        name: &str,
        id: &str,
        ms: i64,
        failed: bool,
    ) -> Bodies {
        let rng = &mut self.rng;
        let w = &self.world;
        let name = name.to_string();
        let id = id.to_string();
        let az = format!("{}-0{}", w.region, 1 + ms.rem_euclid(3));
        let pool_id = |rng: &mut StdRng, pool: P| pick(rng, &w.pools[pool as usize]).1.clone();
        let job_id = |rng: &mut StdRng| obj! {"job_id" => hex32(rng)};
        let (mut request, mut response, mut message) = (None, None, None);
        match op.name {
            "createServer" => {
                request = Some(obj! {"server" => obj! {
                    "availability_zone" => az,
                    "name" => name,
                    "imageRef" => uuid4(rng),
                    "flavorRef" => *pick(rng, &["s3.large.2", "s3.xlarge.4", "c4.2xlarge.2", "m3.large.8"]),
                    "root_volume" => obj! {"volumetype" => "SSD", "size" => 40},
                    "vpcid" => pool_id(rng, P::Vpc),
                    "nics" => arr![obj! {"subnet_id" => pool_id(rng, P::Subnet)}],
                    "security_groups" => arr![obj! {"id" => pool_id(rng, P::SecGroup)}],
                    "adminPass" => "********",
                    "count" => 1,
                }});
                response = Some(job(rng, "createSingleServer", ms, Some(("server_id", &id))));
            }
            "createSingleServer" | "resizeServer" => {
                if op.name == "resizeServer" {
                    request = Some(obj! {"resize" => obj! {"flavorRef" => "s3.2xlarge.4"}});
                }
                response = Some(job(rng, op.name, ms, Some(("server_id", &id))));
            }
            "deleteServer" => {
                request = Some(obj! {
                    "servers" => arr![obj! {"id" => id}],
                    "delete_publicip" => rng.random_bool(0.5),
                    "delete_volume" => rng.random_bool(0.3),
                });
                response = Some(job_id(rng));
            }
            "startServer" | "stopServer" | "rebootServer" => {
                let action = match op.name {
                    "startServer" => "os-start",
                    "stopServer" => "os-stop",
                    _ => "reboot",
                };
                let mut inner = vec![("servers", arr![obj! {"id" => id}])];
                if action != "os-start" {
                    let kind = if rng.random_bool(0.8) { "SOFT" } else { "HARD" };
                    inner.push(("type", J::from(kind)));
                }
                request = Some(J::Obj(vec![(action, J::Obj(inner))]));
                response = Some(job_id(rng));
            }
            "attachVolume" => {
                request = Some(obj! {"volumeAttachment" => obj! {
                    "volumeId" => pool_id(rng, P::Volume),
                    "device" => "/dev/vdb",
                }});
                response = Some(job_id(rng));
            }
            "updateMetadata" | "setMetadata" => {
                let metadata = obj! {"metadata" => obj! {
                    "owner" => *pick(rng, &["team-web", "team-data", "platform", "sre"]),
                    "env" => *pick(rng, &["prod", "dev", "staging"]),
                }};
                request = Some(metadata.clone());
                response = Some(metadata);
            }
            "createSecurityGroup" | "createSecurity-group" => {
                let vpc = pool_id(rng, P::Vpc);
                request = Some(
                    obj! {"security_group" => obj! {"name" => name.clone(), "vpc_id" => vpc.clone()}},
                );
                response = Some(obj! {"security_group" => obj! {
                    "id" => id,
                    "name" => name,
                    "vpc_id" => vpc,
                    "security_group_rules" => arr![],
                }});
            }
            "createSgRule" | "createSecurity-group-rule" | "updateSecurity-group-rule" => {
                let sg = pool_id(rng, P::SecGroup);
                let rule = sg_rule(rng, &sg);
                let mut with_id = rule.clone();
                if let J::Obj(fields) = &mut with_id {
                    fields.insert(0, ("id", J::from(id)));
                }
                request = Some(obj! {"security_group_rule" => rule});
                response = Some(obj! {"security_group_rule" => with_id});
            }
            "createVpc" => {
                let cidr = format!("10.{}.0.0/16", rng.random_range(0..=255));
                request =
                    Some(obj! {"vpc" => obj! {"name" => name.clone(), "cidr" => cidr.clone()}});
                response = Some(obj! {"vpc" => obj! {
                    "id" => id, "name" => name, "cidr" => cidr, "status" => "CREATING",
                }});
            }
            "createSubnet" => {
                let net = format!(
                    "10.{}.{}",
                    rng.random_range(0..=255),
                    rng.random_range(0..=255)
                );
                request = Some(obj! {"subnet" => obj! {
                    "name" => name,
                    "cidr" => format!("{net}.0/24"),
                    "gateway_ip" => format!("{net}.1"),
                    "vpc_id" => pool_id(rng, P::Vpc),
                    "dhcp_enable" => true,
                }});
                response = Some(obj! {"subnet" => obj! {"id" => id, "status" => "UNKNOWN"}});
            }
            "createEip" => {
                request = Some(obj! {
                    "publicip" => obj! {"type" => "5_bgp", "ip_version" => 4},
                    "bandwidth" => obj! {
                        "name" => format!("bandwidth-{:04x}", rng.random::<u16>()),
                        "size" => *pick(rng, &[5, 10, 20, 100]),
                        "share_type" => "PER",
                        "charge_mode" => "traffic",
                    },
                });
                response = Some(obj! {"publicip" => obj! {
                    "id" => id, "public_ip_address" => name, "status" => "PENDING_CREATE",
                }});
            }
            "bindEip" => {
                let port = uuid4(rng);
                request = Some(obj! {"publicip" => obj! {"port_id" => port.clone()}});
                response = Some(obj! {"publicip" => obj! {
                    "id" => id, "public_ip_address" => name, "port_id" => port, "status" => "ACTIVE",
                }});
            }
            "unbindEip" => {
                request = Some(obj! {"publicip" => obj! {"port_id" => J::Null}});
                response = Some(obj! {"publicip" => obj! {"id" => id, "status" => "DOWN"}});
            }
            "modifyBandwidth" => {
                request = Some(
                    obj! {"bandwidth" => obj! {"size" => *pick(rng, &[10, 20, 50, 100, 300])}},
                );
            }
            "createVolume" => {
                request = Some(obj! {"volume" => obj! {
                    "name" => name,
                    "size" => *pick(rng, &[10, 40, 100, 200, 500]),
                    "volume_type" => *pick(rng, &["SSD", "SAS", "SATA"]),
                    "availability_zone" => az,
                }});
                response = Some(job(rng, "createVolume", ms, Some(("volume_id", &id))));
            }
            "deleteVolume" | "extendVolume" => {
                if op.name == "extendVolume" {
                    request = Some(
                        obj! {"os-extend" => obj! {"new_size" => *pick(rng, &[100, 200, 500])}},
                    );
                }
                response = Some(job(rng, op.name, ms, Some(("volume_id", &id))));
            }
            "login" | "loginFailed" => {
                let o = operator.map(|o| &w.operators[o]);
                let (mode, user_type) = match o.map(|o| o.kind) {
                    Some(Kind::Root) => ("password", "domain owner"),
                    Some(Kind::Federated) => ("federation", "federated user"),
                    _ => ("password", "iam user"),
                };
                let protected = o.is_some_and(|o| o.mfa) && chance(rng, 950);
                let mut login = vec![
                    ("mode", J::from(mode)),
                    ("user_type", J::from(user_type)),
                    (
                        "login_protect",
                        obj! {"status" => if protected { "on" } else { "off" }},
                    ),
                ];
                if op.name == "loginFailed" {
                    let reason = *pick(
                        rng,
                        &["password error", "verification code error", "user locked"],
                    );
                    login.push(("reason", J::from(reason)));
                }
                let login = obj! {"login" => J::Obj(login)};
                message = Some(if chance(rng, 850) {
                    encoded(&login)
                } else {
                    login
                });
            }
            "switchRole" => {
                request =
                    Some(obj! {"agency_name" => name, "domain_name" => w.domain_name.clone()});
            }
            "createUser" => {
                request = Some(obj! {"user" => obj! {
                    "name" => name.clone(),
                    "domain_id" => w.domain_id.clone(),
                    "enabled" => true,
                    "email" => format!("{name}@example.com"),
                }});
                response =
                    Some(obj! {"user" => obj! {"id" => id, "name" => name, "enabled" => true}});
            }
            "updateUser" => {
                request = Some(obj! {"user" => obj! {
                    "enabled" => rng.random_bool(0.8), "description" => "updated by admin",
                }});
            }
            "addCredential" => {
                request = Some(obj! {"credential" => obj! {
                    "user_id" => id.clone(),
                    "description" => *pick(rng, &["ci key", "local cli", ""]),
                }});
                response = Some(obj! {"credential" => obj! {
                    "access" => access_key(rng, false),
                    "status" => "active",
                    "user_id" => id,
                    "create_time" => iso_ms(ms),
                }});
            }
            "changePassword" | "updateUserPwd" | "setPasswordByAdmin" | "modifyUserPassword" => {
                request = Some(obj! {"user" => obj! {
                    "password" => "********", "original_password" => "********",
                }});
            }
            "addUserToGroup" | "removeUserFromGroup" => {
                request = Some(obj! {"group_id" => id, "user_id" => pool_id(rng, P::IamUser)});
            }
            "assignRoleToGroupOnProject"
            | "unassignRoleToGroupOnProject"
            | "assignRoleToGroupOnDomain"
            | "unassignRoleToGroupOnDomain" => {
                let (group, role) = name.split_once(':').unwrap_or((&name, "te_admin"));
                let scope = if op.name.ends_with("Project") {
                    ("project_id", J::from(w.project_id.clone()))
                } else {
                    ("domain_id", J::from(w.domain_id.clone()))
                };
                request = Some(J::Obj(vec![
                    ("group_name", J::from(group.to_string())),
                    ("role_name", J::from(role.to_string())),
                    ("role_id", J::from(hex32(rng))),
                    scope,
                ]));
            }
            "createAgency" | "updateAgency" => {
                request = Some(obj! {"agency" => obj! {
                    "name" => name.clone(),
                    "domain_id" => w.domain_id.clone(),
                    "trust_domain_name" => *pick(rng, &["op_svc_cce", "op_svc_evs", "partner-domain-0042"]),
                    "duration" => *pick(rng, &["FOREVER", "ONEDAY"]),
                }});
                response = Some(obj! {"agency" => obj! {"id" => id, "name" => name}});
            }
            "BindMFA" | "UnBindMFA" => {
                let device = obj! {
                    "user_id" => id.clone(),
                    "serial_number" => format!("iam/mfa/{id}"),
                    "authentication_code" => "******",
                };
                let field = if op.name == "BindMFA" {
                    "binding_device"
                } else {
                    "unbinding_device"
                };
                request = Some(J::Obj(vec![(field, device)]));
            }
            "updateSecurityPolicies" => {
                request = Some(obj! {"protect_policy" => obj! {
                    "operation_protection" => rng.random_bool(0.5),
                    "allow_user" => obj! {
                        "manage_accesskey" => rng.random_bool(0.5), "manage_password" => true,
                    },
                }});
            }
            "updatePasswordPolicies" => {
                request = Some(obj! {"password_policy" => obj! {
                    "minimum_password_length" => *pick(rng, &[8, 12, 16]),
                    "password_validity_period" => *pick(rng, &[0, 90, 180]),
                    "number_of_recent_passwords_disallowed" => *pick(rng, &[0, 3, 5]),
                }});
            }
            "updateACLPolicies" => {
                let netmask = *pick(rng, &["80.158.0.0/16", "0.0.0.0/0", "62.156.151.0/24"]);
                request = Some(obj! {"console_acl_policy" => obj! {
                    "allow_address_netmasks" => arr![obj! {"address_netmask" => netmask}],
                }});
            }
            "createIdentityProvider" | "updateIdentityProvider" => {
                request = Some(obj! {"identity_provider" => obj! {
                    "sso_type" => "virtual_user_sso", "enabled" => true, "description" => name,
                }});
            }
            "createTracker" | "updateTracker" => {
                // Shaped like the 2017 file of cts-spec.md §1.5(e), plus v3 fields on half.
                let update = op.name == "updateTracker";
                let disabled = update && chance(rng, 250);
                let bucket = if update && chance(rng, 150) {
                    *pick(rng, &["obs-cts-archive", "tmp-bucket-x1"])
                } else {
                    SAMPLE_BUCKET
                };
                let prefix = if update && chance(rng, 100) {
                    "changed".to_string()
                } else {
                    w.prefix.clone()
                };
                let mut fields = vec![
                    ("bucket_name", J::from(bucket)),
                    ("file_prefix_name", J::from(prefix)),
                    (
                        "status",
                        J::from(if disabled { "disabled" } else { "enabled" }),
                    ),
                ];
                if rng.random_bool(0.5) {
                    fields.push(("tracker_type", J::from("system")));
                    fields.push(("is_support_validate", J::from(chance(rng, 850))));
                    fields.push(("lts", obj! {"is_lts_enabled" => rng.random_bool(0.5)}));
                }
                request = Some(J::Obj(fields.clone()));
                fields.push(("tracker_name", J::from(name)));
                response = Some(J::Obj(fields));
            }
            "deleteTracker" => request = Some(obj! {"tracker_name" => name}),
            "getTrace" => {
                request = Some(obj! {
                    "trace_type" => "system",
                    "limit" => *pick(rng, &[10, 50, 200]),
                    "from" => ms - HOUR_MS,
                    "to" => ms,
                });
            }
            "createNotification" | "updateNotification" | "updateNotificationStatus" => {
                let mut fields = vec![("notification_name", J::from(name))];
                if op.name != "updateNotificationStatus" {
                    fields.push(("operation_type", J::from("customized")));
                    fields.push((
                        "operations",
                        arr![obj! {
                            "service_type" => "IAM",
                            "resource_type" => "user",
                            "trace_names" => arr!["login", "loginFailed"],
                        }],
                    ));
                }
                let status = if chance(rng, 200) {
                    "disabled"
                } else {
                    "enabled"
                };
                fields.push(("status", J::from(status)));
                request = Some(J::Obj(fields));
            }
            "createBucket" => {
                request = Some(
                    obj! {"CreateBucketConfiguration" => obj! {"Location" => w.region.clone()}},
                );
            }
            "setBucketPolicy" => {
                let principal = if chance(rng, 150) {
                    "*".to_string()
                } else {
                    format!("domain/{}:user/*", w.domain_id)
                };
                request = Some(obj! {"Statement" => arr![obj! {
                    "Sid" => "stmt1",
                    "Effect" => "Allow",
                    "Principal" => obj! {"ID" => arr![principal]},
                    "Action" => arr!["GetObject"],
                    "Resource" => arr![format!("{name}/*")],
                }]});
            }
            "setBucketAcl" => {
                let grantee = if chance(rng, 150) {
                    obj! {"Canned" => "Everyone"}
                } else {
                    obj! {"ID" => w.domain_id.clone()}
                };
                request = Some(obj! {"AccessControlPolicy" => obj! {
                    "Owner" => obj! {"ID" => w.domain_id.clone()},
                    "AccessControlList" => obj! {
                        "Grant" => arr![obj! {"Grantee" => grantee, "Permission" => "READ"}],
                    },
                }});
            }
            "createKey" => {
                request = Some(obj! {
                    "key_alias" => name, "key_spec" => "AES_256", "key_usage" => "ENCRYPT_DECRYPT",
                });
                response = Some(
                    obj! {"key_info" => obj! {"key_id" => id, "domain_id" => w.domain_id.clone()}},
                );
            }
            "enableKey" | "disableKey" => {
                let state = if op.name == "enableKey" { "2" } else { "3" };
                request = Some(obj! {"key_id" => id.clone()});
                response = Some(obj! {"key_info" => obj! {"key_id" => id, "key_state" => state}});
            }
            "scheduleKeyDeletion" => {
                request =
                    Some(obj! {"key_id" => id.clone(), "pending_days" => *pick(rng, &["7", "30"])});
                response = Some(obj! {"key_id" => id, "key_state" => "4"});
            }
            "cancelKeyDeletion" => {
                request = Some(obj! {"key_id" => id.clone()});
                response = Some(obj! {"key_id" => id, "key_state" => "5"});
            }
            "createDataKey" | "encryptDatakey" | "decryptDatakey" => {
                request = Some(obj! {"key_id" => id.clone(), "datakey_length" => "512"});
                response = Some(obj! {"key_id" => id, "cipher_text" => "******"});
            }
            "publishMessage" => {
                request = Some(obj! {"subject" => "alarm", "message" => "CPU usage above 90%"});
                response = Some(obj! {"message_id" => hex32(rng), "request_id" => hex32(rng)});
            }
            "createTopic" => {
                request = Some(obj! {"name" => name.clone(), "display_name" => name});
                response = Some(obj! {"topic_urn" => id, "request_id" => hex32(rng)});
            }
            "subscribe" => {
                let endpoint = *pick(
                    rng,
                    &[
                        "ops@example.com",
                        "security@example.com",
                        "oncall@example.com",
                    ],
                );
                request = Some(obj! {"protocol" => "email", "endpoint" => endpoint});
                response = Some(obj! {"subscription_urn" => id, "request_id" => hex32(rng)});
            }
            "createInstance" => {
                request = Some(obj! {
                    "name" => name.clone(),
                    "datastore" => obj! {"type" => "PostgreSQL", "version" => "14"},
                    "flavor_ref" => "rds.pg.c2.large",
                    "volume" => obj! {"type" => "ULTRAHIGH", "size" => 100},
                    "availability_zone" => az,
                    "password" => "********",
                });
                response = Some(obj! {
                    "job_id" => uuid4(rng),
                    "instance" => obj! {"id" => id, "name" => name, "status" => "BUILD"},
                });
            }
            "createListener" | "updateListener" => {
                request = Some(obj! {"listener" => obj! {
                    "name" => name.clone(),
                    "protocol" => *pick(rng, &["HTTPS", "HTTP", "TCP"]),
                    "protocol_port" => *pick(rng, &[443, 80, 8443]),
                }});
                response = Some(obj! {"listener" => obj! {"id" => id, "name" => name}});
            }
            "addMember" => {
                request = Some(
                    obj! {"member" => obj! {"address" => name.clone(), "protocol_port" => 8080}},
                );
                response = Some(obj! {"member" => obj! {"id" => id, "address" => name}});
            }
            other => {
                // Generic: creations and updates name their resource; deletions carry no body.
                let bodiless = ["delete", "remove", "log", "del", "cancel", "interrupt"];
                if !op.ro && !bodiless.iter().any(|p| other.starts_with(p)) {
                    let mut inner = vec![("name", J::from(name))];
                    if !id.is_empty() {
                        inner.insert(0, ("id", J::from(id)));
                    }
                    request = Some(J::Obj(vec![(op.rtype, J::Obj(inner))]));
                }
            }
        }
        if failed {
            response = Some(error_body(rng, op.svc));
            if message.is_none() && chance(rng, 500) {
                let text = *pick(
                    rng,
                    &[
                        "operation failed",
                        "Forbidden",
                        "The resource is being used.",
                    ],
                );
                message = Some(J::from(text));
            }
        } else if message.is_none() && chance(rng, 100) {
            message = Some(J::from("success"));
        }
        Bodies {
            request,
            response,
            message,
        }
    }
}

/// An asynchronous job body, as ECS and EVS return it (cts-spec.md §1.5(a)).
fn job(
    rng: &mut StdRng,
    job_type: &'static str,
    ms: i64,
    entity: Option<(&'static str, &str)>,
) -> J {
    let begin = ms - rng.random_range(20_000..60_000);
    let entities = match entity {
        Some((k, v)) => J::Obj(vec![(k, J::from(v.to_string()))]),
        None => obj! {},
    };
    obj! {
        "job_id" => hex32(rng),
        "job_type" => job_type,
        "begin_time" => iso_ms(begin),
        "end_time" => iso_ms(ms),
        "status" => "SUCCESS",
        "error_code" => J::Null,
        "fail_reason" => J::Null,
        "entities" => entities,
    }
}

/// A security group rule: mostly private sources, some open to the world (0.0.0.0/0, ::/0).
fn sg_rule(rng: &mut StdRng, security_group_id: &str) -> J {
    const PRIVATE: &[&str] = &[
        "10.0.0.0/8",
        "10.10.0.0/16",
        "10.20.30.0/24",
        "192.168.0.0/16",
        "192.168.10.0/24",
        "172.16.0.0/12",
    ];
    let direction = if chance(rng, 850) {
        "ingress"
    } else {
        "egress"
    };
    let (ethertype, remote) = if !chance(rng, 150) {
        ("IPv4", *pick(rng, PRIVATE))
    } else if chance(rng, 250) {
        ("IPv6", "::/0")
    } else {
        ("IPv4", "0.0.0.0/0")
    };
    let (protocol, ports): (&str, Option<(i64, i64)>) = match rng.random_range(0..100) {
        0..75 => {
            let port = *pick(rng, &[22, 3389, 443, 80, 5432, 3306, 6443, 8080, 9100]);
            ("tcp", Some((port, port)))
        }
        75..85 => ("udp", Some((53, 53))),
        85..95 => ("icmp", None),
        _ => ("tcp", Some((1, 65535))),
    };
    let mut fields = vec![
        ("direction", J::from(direction)),
        ("ethertype", J::from(ethertype)),
        ("protocol", J::from(protocol)),
    ];
    if let Some((min, max)) = ports {
        fields.push(("port_range_min", J::from(min)));
        fields.push(("port_range_max", J::from(max)));
    }
    fields.push(("remote_ip_prefix", J::from(remote)));
    fields.push(("security_group_id", J::from(security_group_id.to_string())));
    fields.push(("description", J::from("")));
    J::Obj(fields)
}

/// An error response body, in the two shapes services use.
fn error_body(rng: &mut StdRng, svc: usize) -> J {
    let choices: &[(&'static str, &'static str)] = match svc {
        ECS => &[
            ("Ecs.0114", "Invalid flavorRef."),
            ("Ecs.0019", "The ECS quota is insufficient."),
            ("Ecs.0000", "Internal error."),
        ],
        EVS => &[
            ("EVS.2024", "The disk is in use."),
            ("EVS.5400", "Insufficient quota."),
        ],
        VPC => &[
            ("VPC.0514", "Update port fail."),
            ("VPC.0601", "Security group rule already exists."),
        ],
        IAM => &[
            ("IAM.0002", "Forbidden."),
            ("IAM.1101", "The user name or password is incorrect."),
        ],
        OBS => &[
            ("AccessDenied", "Access Denied"),
            (
                "BucketNotEmpty",
                "The bucket you tried to delete is not empty",
            ),
        ],
        KMS => &[
            ("KMS.0205", "The key does not exist."),
            ("KMS.1102", "Key state is not valid."),
        ],
        _ => &[
            ("APIGW.0301", "Incorrect IAM authentication information."),
            ("Common.0403", "Insufficient permissions."),
        ],
    };
    let (code, message) = *pick(rng, choices);
    if svc == VPC && rng.random_bool(0.5) {
        obj! {"code" => code, "message" => message}
    } else {
        obj! {"error" => obj! {"code" => code, "message" => message}}
    }
}

/// The key order of the 2017 trace files (cts-spec.md §1.5(e)); other keys keep their place after.
fn legacy_order(v: &mut J) {
    const ORDER: &[&str] = &[
        "time",
        "user",
        "request",
        "response",
        "service_type",
        "resource_type",
        "resource_name",
        "resource_id",
        "source_ip",
        "trace_name",
        "trace_type",
        "api_version",
        "message",
        "record_time",
        "trace_id",
        "code",
        "trace_status",
        "trace_rating",
    ];
    if let J::Obj(fields) = v {
        fields
            .sort_by_cached_key(|(k, _)| ORDER.iter().position(|o| o == k).unwrap_or(ORDER.len()));
    }
}

/// `ms` as an ISO 8601 UTC time with milliseconds (`2024-06-30T10:00:00.000Z`).
fn iso_ms(ms: i64) -> String {
    utc_from_ms(ms)
        .map(|t| t.format("%Y-%m-%dT%H:%M:%S%.3fZ").to_string())
        .unwrap_or_default()
}

/// `createServer` -> `CreateServer`, `createSecurity-group` -> `CreateSecurityGroup`
/// (`operation_id`).
fn pascal_case(name: &str) -> String {
    let mut out = String::with_capacity(name.len());
    let mut upper = true;
    for c in name.chars() {
        if !c.is_ascii_alphanumeric() {
            upper = true;
            continue;
        }
        if upper {
            out.push(c.to_ascii_uppercase());
            upper = false;
        } else {
            out.push(c);
        }
    }
    out
}
