"""The columns each table promises analysts (the issue's contract); tables may have more."""

from __future__ import annotations

COMMON_COLUMNS: tuple[str, ...] = (
    "record_id",
    "event_time",
    "category",
    "tenant_id",
    "correlation_id",
    "eventhub",
    "partition_id",
    "sequence_number",
    "enqueued_time",
)

_RISK_EVENT = (
    "id event_time detected_time last_updated_time risk_event_type risk_level risk_state "
    "risk_detail detection_timing_type activity source ip_address location_country location_city "
    "request_id additional_info"
)

CONTRACT: dict[str, tuple[str, ...]] = {
    name: tuple(columns.split())
    for name, columns in {
        "signin_logs": (
            "id event_time category signin_type user_id user_principal_name user_display_name "
            "user_type app_id app_display_name resource_display_name service_principal_id "
            "service_principal_name ip_address autonomous_system_number client_app_used "
            "user_agent is_interactive error_code failure_reason additional_details result "
            "conditional_access_status authentication_requirement mfa_methods location_city "
            "location_state location_country latitude longitude device_id device_os "
            "device_browser device_is_compliant device_is_managed device_trust_type "
            "risk_level_aggregated risk_level_during_signin risk_state risk_detail "
            "risk_event_types applied_ca_policies token_issuer_type cross_tenant_access_type "
            "home_tenant_id resource_tenant_id duration_ms session_id authentication_protocol "
            "unique_token_identifier"
        ),
        "audit_logs": (
            "id event_time audit_category activity_display_name operation_type result "
            "result_reason logged_by_service initiated_by_user_id initiated_by_upn "
            "initiated_by_ip initiated_by_app_id initiated_by_app_name target_ids target_names "
            "target_upns target_types modified_properties additional_details"
        ),
        "provisioning_logs": (
            "id event_time job_id cycle_id change_id action status error_code error_reason "
            "error_category source_system target_system source_identity_id source_identity_name "
            "target_identity_id target_identity_name service_principal_id service_principal_name "
            "initiated_by steps modified_properties duration_ms"
        ),
        "risky_users": (
            "user_id event_time user_principal_name user_display_name risk_level risk_state "
            "risk_detail is_deleted is_processing is_guest"
        ),
        "user_risk_events": _RISK_EVENT + " user_id user_principal_name",
        "risky_service_principals": (
            "service_principal_id event_time app_id risk_level risk_state risk_detail"
        ),
        "service_principal_risk_events": _RISK_EVENT + " service_principal_id app_id",
        "activity_logs": (
            "event_time category operation_name result_type result_signature level caller "
            "caller_ip correlation_id resource_id subscription_id resource_group "
            "resource_provider resource_type resource_name authorization_action "
            "authorization_scope status_code properties"
        ),
        "graph_activity_logs": (
            "request_method request_uri response_status_code app_id user_id ip_address duration_ms"
        ),
    }.items()
}


def missing_columns(table: str, columns: list[str]) -> list[str]:
    """Contract and common columns that `columns` lacks."""
    present = set(columns)
    wanted = dict.fromkeys((*CONTRACT[table], *COMMON_COLUMNS))
    return [column for column in wanted if column not in present]
