///API group module `example_com`.
pub mod example_com {
    ///Version v1 of group module `example_com`.
    #[allow(clippy::all, missing_docs, non_camel_case_types, unused_imports)]
    pub mod v1 {
        /// `com.example.v1.Gadget`
        #[derive(
            Debug,
            Clone,
            Default,
            PartialEq,
            ::kapi_runtime::__private::serde::Serialize,
            ::kapi_runtime::__private::serde::Deserialize
        )]
        #[serde(crate = "::kapi_runtime::__private::serde")]
        pub struct Gadget {
            #[serde(
                rename = "apiVersion",
                default,
                skip_serializing_if = "::std::option::Option::is_none"
            )]
            pub api_version: ::std::option::Option<::std::string::String>,
            #[serde(
                rename = "kind",
                default,
                skip_serializing_if = "::std::option::Option::is_none"
            )]
            pub kind: ::std::option::Option<::std::string::String>,
            #[serde(
                rename = "metadata",
                default,
                deserialize_with = "::kapi_runtime::apimachinery::serde_util::null_default"
            )]
            pub metadata: ::kapi_runtime::apimachinery::ObjectMeta,
            #[serde(
                rename = "spec",
                default,
                skip_serializing_if = "::std::option::Option::is_none"
            )]
            pub spec: ::std::option::Option<super::super::example_com::v1::GadgetSpec>,
        }
        ///Schema tree of `com.example.v1.Gadget`.
        pub static GADGET_SCHEMA: ::kapi_runtime::apimachinery::schema::ObjectSchema = ::kapi_runtime::apimachinery::schema::ObjectSchema {
            name: "com.example.v1.Gadget",
            properties: &[
                (
                    "apiVersion",
                    ::kapi_runtime::apimachinery::schema::Schema {
                        ty: ::kapi_runtime::apimachinery::schema::Type::String,
                        ..::kapi_runtime::apimachinery::schema::Schema::DEFAULT
                    },
                ),
                (
                    "kind",
                    ::kapi_runtime::apimachinery::schema::Schema {
                        ty: ::kapi_runtime::apimachinery::schema::Type::String,
                        ..::kapi_runtime::apimachinery::schema::Schema::DEFAULT
                    },
                ),
                (
                    "metadata",
                    ::kapi_runtime::apimachinery::schema::Schema {
                        ty: ::kapi_runtime::apimachinery::schema::Type::Object(
                            &::kapi_runtime::apimachinery::schema::wellknown::OBJECT_META_OBJECT,
                        ),
                        ..::kapi_runtime::apimachinery::schema::Schema::DEFAULT
                    },
                ),
                (
                    "spec",
                    ::kapi_runtime::apimachinery::schema::Schema {
                        ty: ::kapi_runtime::apimachinery::schema::Type::Object(
                            &super::super::example_com::v1::GADGET_SPEC_SCHEMA,
                        ),
                        ..::kapi_runtime::apimachinery::schema::Schema::DEFAULT
                    },
                ),
            ],
            required: &[],
            additional_properties: ::std::option::Option::None,
            preserve_unknown_fields: false,
            protobuf: false,
            proto_embedded: &[],
        };
        /// `com.example.v1.GadgetSpec`
        #[derive(
            Debug,
            Clone,
            Default,
            PartialEq,
            ::kapi_runtime::__private::serde::Serialize,
            ::kapi_runtime::__private::serde::Deserialize
        )]
        #[serde(crate = "::kapi_runtime::__private::serde")]
        pub struct GadgetSpec {
            /// The left one.
            #[serde(
                rename = "left",
                default,
                skip_serializing_if = "::std::option::Option::is_none"
            )]
            pub left: ::std::option::Option<
                super::super::example_com::v1::GadgetSpecLeft,
            >,
            #[serde(
                rename = "other",
                default,
                skip_serializing_if = "::std::option::Option::is_none"
            )]
            pub other: ::std::option::Option<
                super::super::example_com::v1::GadgetSpecOther,
            >,
            /// The right one.
            #[serde(
                rename = "right",
                default,
                skip_serializing_if = "::std::option::Option::is_none"
            )]
            pub right: ::std::option::Option<
                super::super::example_com::v1::GadgetSpecLeft,
            >,
        }
        ///Schema tree of `com.example.v1.GadgetSpec`.
        pub static GADGET_SPEC_SCHEMA: ::kapi_runtime::apimachinery::schema::ObjectSchema = ::kapi_runtime::apimachinery::schema::ObjectSchema {
            name: "com.example.v1.GadgetSpec",
            properties: &[
                (
                    "left",
                    ::kapi_runtime::apimachinery::schema::Schema {
                        ty: ::kapi_runtime::apimachinery::schema::Type::Object(
                            &super::super::example_com::v1::GADGET_SPEC_LEFT_SCHEMA,
                        ),
                        ..::kapi_runtime::apimachinery::schema::Schema::DEFAULT
                    },
                ),
                (
                    "other",
                    ::kapi_runtime::apimachinery::schema::Schema {
                        ty: ::kapi_runtime::apimachinery::schema::Type::Object(
                            &super::super::example_com::v1::GADGET_SPEC_OTHER_SCHEMA,
                        ),
                        ..::kapi_runtime::apimachinery::schema::Schema::DEFAULT
                    },
                ),
                (
                    "right",
                    ::kapi_runtime::apimachinery::schema::Schema {
                        ty: ::kapi_runtime::apimachinery::schema::Type::Object(
                            &super::super::example_com::v1::GADGET_SPEC_LEFT_SCHEMA,
                        ),
                        ..::kapi_runtime::apimachinery::schema::Schema::DEFAULT
                    },
                ),
            ],
            required: &[],
            additional_properties: ::std::option::Option::None,
            preserve_unknown_fields: false,
            protobuf: false,
            proto_embedded: &[],
        };
        /// The left one.
        #[derive(
            Debug,
            Clone,
            Default,
            PartialEq,
            ::kapi_runtime::__private::serde::Serialize,
            ::kapi_runtime::__private::serde::Deserialize
        )]
        #[serde(crate = "::kapi_runtime::__private::serde")]
        pub struct GadgetSpecLeft {
            /// Its name.
            #[serde(
                rename = "name",
                default,
                deserialize_with = "::kapi_runtime::apimachinery::serde_util::null_default"
            )]
            pub name: ::std::string::String,
            #[serde(
                rename = "port",
                default,
                skip_serializing_if = "::std::option::Option::is_none"
            )]
            pub port: ::std::option::Option<i32>,
        }
        ///Schema tree of `com.example.v1.GadgetSpecLeft`.
        pub static GADGET_SPEC_LEFT_SCHEMA: ::kapi_runtime::apimachinery::schema::ObjectSchema = ::kapi_runtime::apimachinery::schema::ObjectSchema {
            name: "com.example.v1.GadgetSpecLeft",
            properties: &[
                (
                    "name",
                    ::kapi_runtime::apimachinery::schema::Schema {
                        ty: ::kapi_runtime::apimachinery::schema::Type::String,
                        ..::kapi_runtime::apimachinery::schema::Schema::DEFAULT
                    },
                ),
                (
                    "port",
                    ::kapi_runtime::apimachinery::schema::Schema {
                        ty: ::kapi_runtime::apimachinery::schema::Type::Integer,
                        format: ::std::option::Option::Some("int32"),
                        ..::kapi_runtime::apimachinery::schema::Schema::DEFAULT
                    },
                ),
            ],
            required: &["name"],
            additional_properties: ::std::option::Option::None,
            preserve_unknown_fields: false,
            protobuf: false,
            proto_embedded: &[],
        };
        /// `com.example.v1.GadgetSpecOther`
        #[derive(
            Debug,
            Clone,
            Default,
            PartialEq,
            ::kapi_runtime::__private::serde::Serialize,
            ::kapi_runtime::__private::serde::Deserialize
        )]
        #[serde(crate = "::kapi_runtime::__private::serde")]
        pub struct GadgetSpecOther {
            #[serde(
                rename = "name",
                default,
                skip_serializing_if = "::std::option::Option::is_none"
            )]
            pub name: ::std::option::Option<::std::string::String>,
            #[serde(
                rename = "port",
                default,
                skip_serializing_if = "::std::option::Option::is_none"
            )]
            pub port: ::std::option::Option<i32>,
        }
        ///Schema tree of `com.example.v1.GadgetSpecOther`.
        pub static GADGET_SPEC_OTHER_SCHEMA: ::kapi_runtime::apimachinery::schema::ObjectSchema = ::kapi_runtime::apimachinery::schema::ObjectSchema {
            name: "com.example.v1.GadgetSpecOther",
            properties: &[
                (
                    "name",
                    ::kapi_runtime::apimachinery::schema::Schema {
                        ty: ::kapi_runtime::apimachinery::schema::Type::String,
                        max_length: ::std::option::Option::Some(3u64),
                        ..::kapi_runtime::apimachinery::schema::Schema::DEFAULT
                    },
                ),
                (
                    "port",
                    ::kapi_runtime::apimachinery::schema::Schema {
                        ty: ::kapi_runtime::apimachinery::schema::Type::Integer,
                        format: ::std::option::Option::Some("int32"),
                        ..::kapi_runtime::apimachinery::schema::Schema::DEFAULT
                    },
                ),
            ],
            required: &[],
            additional_properties: ::std::option::Option::None,
            preserve_unknown_fields: false,
            protobuf: false,
            proto_embedded: &[],
        };
        pub use super::super::example_com::v1::{
            GadgetSpecLeft as GadgetSpecRight,
            GADGET_SPEC_LEFT_SCHEMA as GADGET_SPEC_RIGHT_SCHEMA,
        };
        ///A list of `Gadget` objects (`example.com/v1` `GadgetList`).
        #[derive(
            Debug,
            Clone,
            Default,
            PartialEq,
            ::kapi_runtime::__private::serde::Serialize,
            ::kapi_runtime::__private::serde::Deserialize
        )]
        #[serde(crate = "::kapi_runtime::__private::serde")]
        pub struct GadgetList {
            /// APIVersion of the list.
            #[serde(
                rename = "apiVersion",
                default,
                skip_serializing_if = "::std::option::Option::is_none"
            )]
            pub api_version: ::std::option::Option<::std::string::String>,
            /// Kind of the list.
            #[serde(
                rename = "kind",
                default,
                skip_serializing_if = "::std::option::Option::is_none"
            )]
            pub kind: ::std::option::Option<::std::string::String>,
            /// Standard list metadata.
            #[serde(rename = "metadata", default)]
            pub metadata: ::kapi_runtime::apimachinery::ListMeta,
            /// The objects.
            #[serde(rename = "items", default)]
            pub items: ::std::vec::Vec<super::super::example_com::v1::Gadget>,
        }
        /// Root schema of the kind.
        pub static GADGET_ROOT_SCHEMA: ::kapi_runtime::apimachinery::schema::Schema = ::kapi_runtime::apimachinery::schema::Schema {
            ty: ::kapi_runtime::apimachinery::schema::Type::Object(
                &super::super::example_com::v1::GADGET_SCHEMA,
            ),
            ..::kapi_runtime::apimachinery::schema::Schema::DEFAULT
        };
        ///Registry facts of `example.com/v1` `Gadget`.
        pub static GADGET_INFO: ::kapi_runtime::apimachinery::KindInfo = ::kapi_runtime::apimachinery::KindInfo {
            group: "example.com",
            version: "v1",
            kind: "Gadget",
            list_kind: "GadgetList",
            plural: "gadgets",
            singular: "gadget",
            short_names: &[],
            categories: &[],
            scope: ::kapi_runtime::apimachinery::Scope::Namespaced,
            served: true,
            storage: true,
            deprecated: false,
            deprecation_warning: ::std::option::Option::None,
            definition: "com.example.v1.Gadget",
            schema: &GADGET_ROOT_SCHEMA,
            status_subresource: true,
            scale: ::std::option::Option::None,
            extra_subresources: &[],
            strategy: ::std::option::Option::None,
            printer_columns: &[],
            selectable_fields: &[],
            proto_package: "com.example.v1",
            verbs: &[],
            conversion: ::kapi_runtime::apimachinery::conversion::Conversion::Webhook(::kapi_runtime::apimachinery::conversion::WebhookConversion {
                url: ::std::option::Option::None,
                service: ::std::option::Option::Some(::kapi_runtime::apimachinery::conversion::ServiceReference {
                    namespace: "gadgets",
                    name: "gadget-webhook",
                    path: ::std::option::Option::Some("/convert"),
                    port: 443u16,
                }),
                ca_bundle: ::std::option::Option::None,
                review_versions: &["v1beta1", "v1beta2"],
            }),
            hooks: ::kapi_runtime::apimachinery::Hooks {
                default: ::std::option::Option::None,
                prepare_for_create: ::std::option::Option::None,
                prepare_for_update: ::std::option::Option::None,
                validate_create: ::std::option::Option::None,
                validate_update: ::std::option::Option::None,
            },
        };
        impl ::kapi_runtime::apimachinery::Resource
        for super::super::example_com::v1::Gadget {
            const INFO: &'static ::kapi_runtime::apimachinery::KindInfo = &GADGET_INFO;
            fn metadata(&self) -> &::kapi_runtime::apimachinery::ObjectMeta {
                &self.metadata
            }
            fn metadata_mut(&mut self) -> &mut ::kapi_runtime::apimachinery::ObjectMeta {
                &mut self.metadata
            }
        }
    }
    ///Version v1beta1 of group module `example_com`.
    #[allow(clippy::all, missing_docs, non_camel_case_types, unused_imports)]
    pub mod v1beta1 {
        /// `com.example.v1beta1.Gadget`
        #[derive(
            Debug,
            Clone,
            Default,
            PartialEq,
            ::kapi_runtime::__private::serde::Serialize,
            ::kapi_runtime::__private::serde::Deserialize
        )]
        #[serde(crate = "::kapi_runtime::__private::serde")]
        pub struct Gadget {
            #[serde(
                rename = "apiVersion",
                default,
                skip_serializing_if = "::std::option::Option::is_none"
            )]
            pub api_version: ::std::option::Option<::std::string::String>,
            #[serde(
                rename = "kind",
                default,
                skip_serializing_if = "::std::option::Option::is_none"
            )]
            pub kind: ::std::option::Option<::std::string::String>,
            #[serde(
                rename = "metadata",
                default,
                deserialize_with = "::kapi_runtime::apimachinery::serde_util::null_default"
            )]
            pub metadata: ::kapi_runtime::apimachinery::ObjectMeta,
            #[serde(
                rename = "spec",
                default,
                skip_serializing_if = "::std::option::Option::is_none"
            )]
            pub spec: ::std::option::Option<
                super::super::example_com::v1beta1::GadgetSpec,
            >,
        }
        ///Schema tree of `com.example.v1beta1.Gadget`.
        pub static GADGET_SCHEMA: ::kapi_runtime::apimachinery::schema::ObjectSchema = ::kapi_runtime::apimachinery::schema::ObjectSchema {
            name: "com.example.v1beta1.Gadget",
            properties: &[
                (
                    "apiVersion",
                    ::kapi_runtime::apimachinery::schema::Schema {
                        ty: ::kapi_runtime::apimachinery::schema::Type::String,
                        ..::kapi_runtime::apimachinery::schema::Schema::DEFAULT
                    },
                ),
                (
                    "kind",
                    ::kapi_runtime::apimachinery::schema::Schema {
                        ty: ::kapi_runtime::apimachinery::schema::Type::String,
                        ..::kapi_runtime::apimachinery::schema::Schema::DEFAULT
                    },
                ),
                (
                    "metadata",
                    ::kapi_runtime::apimachinery::schema::Schema {
                        ty: ::kapi_runtime::apimachinery::schema::Type::Object(
                            &::kapi_runtime::apimachinery::schema::wellknown::OBJECT_META_OBJECT,
                        ),
                        ..::kapi_runtime::apimachinery::schema::Schema::DEFAULT
                    },
                ),
                (
                    "spec",
                    ::kapi_runtime::apimachinery::schema::Schema {
                        ty: ::kapi_runtime::apimachinery::schema::Type::Object(
                            &super::super::example_com::v1beta1::GADGET_SPEC_SCHEMA,
                        ),
                        ..::kapi_runtime::apimachinery::schema::Schema::DEFAULT
                    },
                ),
            ],
            required: &[],
            additional_properties: ::std::option::Option::None,
            preserve_unknown_fields: false,
            protobuf: false,
            proto_embedded: &[],
        };
        /// `com.example.v1beta1.GadgetSpec`
        #[derive(
            Debug,
            Clone,
            Default,
            PartialEq,
            ::kapi_runtime::__private::serde::Serialize,
            ::kapi_runtime::__private::serde::Deserialize
        )]
        #[serde(crate = "::kapi_runtime::__private::serde")]
        pub struct GadgetSpec {
            #[serde(
                rename = "left",
                default,
                skip_serializing_if = "::std::option::Option::is_none"
            )]
            pub left: ::std::option::Option<
                super::super::example_com::v1::GadgetSpecLeft,
            >,
        }
        ///Schema tree of `com.example.v1beta1.GadgetSpec`.
        pub static GADGET_SPEC_SCHEMA: ::kapi_runtime::apimachinery::schema::ObjectSchema = ::kapi_runtime::apimachinery::schema::ObjectSchema {
            name: "com.example.v1beta1.GadgetSpec",
            properties: &[
                (
                    "left",
                    ::kapi_runtime::apimachinery::schema::Schema {
                        ty: ::kapi_runtime::apimachinery::schema::Type::Object(
                            &super::super::example_com::v1::GADGET_SPEC_LEFT_SCHEMA,
                        ),
                        ..::kapi_runtime::apimachinery::schema::Schema::DEFAULT
                    },
                ),
            ],
            required: &[],
            additional_properties: ::std::option::Option::None,
            preserve_unknown_fields: false,
            protobuf: false,
            proto_embedded: &[],
        };
        pub use super::super::example_com::v1::{
            GadgetSpecLeft as GadgetSpecLeft,
            GADGET_SPEC_LEFT_SCHEMA as GADGET_SPEC_LEFT_SCHEMA,
        };
        ///A list of `Gadget` objects (`example.com/v1beta1` `GadgetList`).
        #[derive(
            Debug,
            Clone,
            Default,
            PartialEq,
            ::kapi_runtime::__private::serde::Serialize,
            ::kapi_runtime::__private::serde::Deserialize
        )]
        #[serde(crate = "::kapi_runtime::__private::serde")]
        pub struct GadgetList {
            /// APIVersion of the list.
            #[serde(
                rename = "apiVersion",
                default,
                skip_serializing_if = "::std::option::Option::is_none"
            )]
            pub api_version: ::std::option::Option<::std::string::String>,
            /// Kind of the list.
            #[serde(
                rename = "kind",
                default,
                skip_serializing_if = "::std::option::Option::is_none"
            )]
            pub kind: ::std::option::Option<::std::string::String>,
            /// Standard list metadata.
            #[serde(rename = "metadata", default)]
            pub metadata: ::kapi_runtime::apimachinery::ListMeta,
            /// The objects.
            #[serde(rename = "items", default)]
            pub items: ::std::vec::Vec<super::super::example_com::v1beta1::Gadget>,
        }
        /// Root schema of the kind.
        pub static GADGET_ROOT_SCHEMA: ::kapi_runtime::apimachinery::schema::Schema = ::kapi_runtime::apimachinery::schema::Schema {
            ty: ::kapi_runtime::apimachinery::schema::Type::Object(
                &super::super::example_com::v1beta1::GADGET_SCHEMA,
            ),
            ..::kapi_runtime::apimachinery::schema::Schema::DEFAULT
        };
        ///Registry facts of `example.com/v1beta1` `Gadget`.
        pub static GADGET_INFO: ::kapi_runtime::apimachinery::KindInfo = ::kapi_runtime::apimachinery::KindInfo {
            group: "example.com",
            version: "v1beta1",
            kind: "Gadget",
            list_kind: "GadgetList",
            plural: "gadgets",
            singular: "gadget",
            short_names: &[],
            categories: &[],
            scope: ::kapi_runtime::apimachinery::Scope::Namespaced,
            served: true,
            storage: false,
            deprecated: false,
            deprecation_warning: ::std::option::Option::None,
            definition: "com.example.v1beta1.Gadget",
            schema: &GADGET_ROOT_SCHEMA,
            status_subresource: false,
            scale: ::std::option::Option::None,
            extra_subresources: &[],
            strategy: ::std::option::Option::None,
            printer_columns: &[],
            selectable_fields: &[],
            proto_package: "com.example.v1beta1",
            verbs: &[],
            conversion: ::kapi_runtime::apimachinery::conversion::Conversion::Webhook(::kapi_runtime::apimachinery::conversion::WebhookConversion {
                url: ::std::option::Option::None,
                service: ::std::option::Option::Some(::kapi_runtime::apimachinery::conversion::ServiceReference {
                    namespace: "gadgets",
                    name: "gadget-webhook",
                    path: ::std::option::Option::Some("/convert"),
                    port: 443u16,
                }),
                ca_bundle: ::std::option::Option::None,
                review_versions: &["v1beta1", "v1beta2"],
            }),
            hooks: ::kapi_runtime::apimachinery::Hooks {
                default: ::std::option::Option::None,
                prepare_for_create: ::std::option::Option::None,
                prepare_for_update: ::std::option::Option::None,
                validate_create: ::std::option::Option::None,
                validate_update: ::std::option::Option::None,
            },
        };
        impl ::kapi_runtime::apimachinery::Resource
        for super::super::example_com::v1beta1::Gadget {
            const INFO: &'static ::kapi_runtime::apimachinery::KindInfo = &GADGET_INFO;
            fn metadata(&self) -> &::kapi_runtime::apimachinery::ObjectMeta {
                &self.metadata
            }
            fn metadata_mut(&mut self) -> &mut ::kapi_runtime::apimachinery::ObjectMeta {
                &mut self.metadata
            }
        }
    }
}
/// Every kind in every version, in (group, version, kind) order: the registry table.
pub static KINDS: &[&::kapi_runtime::apimachinery::KindInfo] = &[
    &example_com::v1::GADGET_INFO,
    &example_com::v1beta1::GADGET_INFO,
];
