package audit

// Changes to policies and to who may use an application, made on the
// admin pages. Their details hold the values before and after.
const (
	PolicyUpdated        = "policy.updated"
	PolicyDeleted        = "policy.deleted"
	ApplicationPolicySet = "application.policy_set"
	ApplicationGroupsSet = "application.groups_set"
	GroupOverrideSet     = "application.group_override_set"
	GroupOverrideRemoved = "application.group_override_removed"
)
