from rest_framework import serializers

from notify.models import Notification


class NotificationSerializer(serializers.ModelSerializer):
    class Meta:
        model = Notification
        fields = [
            "id",
            "user_id",
            "email",
            "channel",
            "kind",
            "subject",
            "status",
            "error",
            "created_at",
            "sent_at",
        ]
        read_only_fields = fields
