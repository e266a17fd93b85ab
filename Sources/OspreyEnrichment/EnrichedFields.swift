import OspreyCore

/// The enrichment fields (docs/fields.md), interned once.
public enum EnrichedFields {
    public static let srcCountry = Field.named("src_country")
    public static let srcASN = Field.named("src_asn")
    public static let srcISP = Field.named("src_isp")
    public static let srcZone = Field.named("src_zone")
    public static let srcCountrySuspicious = Field.named("src_country_suspicious")
    public static let destCountry = Field.named("dest_country")
    public static let destCountrySource = Field.named("dest_country_source")
    public static let peerGroup = Field.named("peer_group")
    public static let userKnown = Field.named("user_known")
    public static let userDepartment = Field.named("user_department")
    public static let userTitle = Field.named("user_title")
    public static let userManager = Field.named("user_manager")
    public static let userIsExecutive = Field.named("user_is_executive")
    public static let userIsService = Field.named("user_is_service")
    public static let userIsPrivileged = Field.named("user_is_privileged")
    public static let userIsDeactivated = Field.named("user_is_deactivated")
    public static let destIsCompany = Field.named("dest_is_company")
    public static let destIsExternal = Field.named("dest_is_external")
    public static let destIsWebmail = Field.named("dest_is_webmail")
    public static let destIsDisposable = Field.named("dest_is_disposable")
    public static let destIsCompetitor = Field.named("dest_is_competitor")
    public static let destIsPersonal = Field.named("dest_is_personal")
    public static let destPersonalBy = Field.named("dest_personal_by")
    public static let destRegDomain = Field.named("dest_reg_domain")
    public static let destUserKnown = Field.named("dest_user_known")
    public static let destUserIsExecutive = Field.named("dest_user_is_executive")
    public static let senderIsCompany = Field.named("sender_is_company")
    public static let senderIsWebmail = Field.named("sender_is_webmail")
    public static let tiTor = Field.named("ti_tor")
    public static let tiBlacklist = Field.named("ti_blacklist")
    public static let tiRansomware = Field.named("ti_ransomware")
    public static let tiMatch = Field.named("ti_match")
    public static let fileIsSourceCode = Field.named("file_is_source_code")
    public static let fileSourceCodeMatch = Field.named("file_source_code_match")
    public static let exploitLog4j = Field.named("exploit_log4j")
    public static let exploitMatch = Field.named("exploit_match")
    public static let exploitField = Field.named("exploit_field")
    public static let exploitPattern = Field.named("exploit_pattern")
    public static let userAgent = Field.named("user_agent")

    /// Every field enrichment may add, for documentation checks and output schemas.
    public static var all: [Field] {
        [srcCountry, srcASN, srcISP, srcZone, srcCountrySuspicious, destCountry, destCountrySource, peerGroup,
         userKnown, userDepartment, userTitle, userManager, userIsExecutive, userIsService, userIsPrivileged,
         userIsDeactivated, destIsCompany, destIsExternal, destIsWebmail, destIsDisposable, destIsCompetitor,
         destIsPersonal, destPersonalBy, destRegDomain, destUserKnown, destUserIsExecutive, senderIsCompany,
         senderIsWebmail, tiTor, tiBlacklist, tiRansomware, tiMatch, fileIsSourceCode, fileSourceCodeMatch,
         exploitLog4j, exploitMatch, exploitField, exploitPattern, Fields.destDomain]
            + KeywordList.allCases.flatMap { [$0.field, $0.matchField] }
    }

    /// Every field the enrichment stage writes (checked against the field catalog when the pipeline
    /// starts): `all`, and dest_email_address (the target an audit event names in additional_info).
    public static var writes: [Field] { all + [Fields.destEmailAddress] }
}
