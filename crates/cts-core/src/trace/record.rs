//! One trace, normalised: the record every decoder produces and every store keeps.

use std::borrow::Cow;

/// Type of an optional borrowed-or-owned text value.
pub type Text<'a> = Option<Cow<'a, str>>;

/// One trace, normalised: every variant of cts-spec.md §1.4 already resolved.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct TraceRecord<'a> {
    /// `trace_id`, never empty.
    pub trace_id: Cow<'a, str>,
    /// `time`, ms since the epoch (UTC).
    pub time: i64,
    /// `record_time`, ms since the epoch (UTC).
    pub record_time: Option<i64>,
    /// The text columns from `service_type` to `enterprise_project_id`, in schema order, by the
    /// indices of `a`.
    pub text_a: [Text<'a>; 20],
    /// `read_only`.
    pub read_only: Option<bool>,
    /// The text columns from `resource_account_id` to `resource_url`, in schema order, by the
    /// indices of `b`.
    pub text_b: [Text<'a>; 5],
    /// `content_length`.
    pub content_length: Option<i64>,
    /// `total_time`.
    pub total_time: Option<i64>,
    /// Fields from `user`.
    pub user: UserInfo<'a>,
    /// `user` as JSON text (the object itself, whether it arrived as an object or a string).
    pub user_json: Text<'a>,
    /// JSON object text of the fields the schema does not know.
    pub extra: Option<String>,
}

/// The flat fields of `user` (cts-spec.md §1.2).
#[derive(Debug, Clone, Default, PartialEq)]
pub struct UserInfo<'a> {
    /// The text columns from `user_id` to `principal_id`, in schema order, by the indices of
    /// `u`.
    pub text: [Text<'a>; 8],
    /// `principal_is_root_user` (arrives as `"true"`/`"false"`).
    pub principal_is_root_user: Option<bool>,
    /// `session_context.attributes.mfa_authenticated`.
    pub mfa_authenticated: Option<bool>,
    /// `invoked_by`.
    pub invoked_by: Option<Vec<String>>,
}
